/* Queues and routing profiles through the C API, end to end: two queues
 * with their own rules beside the default queue, an operator whose profile
 * serves one queue only, a refused unknown queue and profile, a profile
 * change, a handled-count reset, a transfer into another queue, and the
 * finished records (with their queue) fed to the KPI calculator.
 *
 * capi/tests/c_api.rs builds it with pkg-config like the quickstarts, runs
 * it and compares its output with the same scenario run through the Rust
 * API. Build by hand after `capi/install.sh --prefix "$HOME/.local"`:
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic capi/tests/c/queues.c \
 *      $(pkg-config --cflags --libs switchboard) -o "${TMPDIR:-/tmp}/queues_c"
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchboard.h"

enum { CHAT = 2, STANDARD = 1, BILLING = 10 };
/* The queues and the profile the policy declares. */
enum { VIP = 1, SALES = 2, SALES_ONLY = 7 };

/* The default queue routes by least load; "vip" by fewest handled,
 * "sales" by the most proficient. Profile 7 serves "sales" only. */
static const char POLICY[] =
    "{"
    "\"channels\": [{\"id\": 2, \"name\": \"chat\"}],"
    "\"tiers\": [{\"id\": 1, \"name\": \"standard\", \"priority\": 1,"
    "             \"first_response_target\": 300000}],"
    "\"skills\": [{\"id\": 10, \"name\": \"billing\"}],"
    "\"queues\": ["
    "  {\"id\": 1, \"name\": \"vip\", \"selection\": \"fewest_handled\"},"
    "  {\"id\": 2, \"name\": \"sales\", \"selection\": \"most_proficient\"}"
    "],"
    "\"profiles\": [{\"id\": 7, \"name\": \"sales only\","
    "               \"queues\": [{\"queue\": 2, \"priority\": 1}]}]"
    "}";

static const char *const ROUTES[] = {"preferred_operator", "least_loaded", "longest_idle",
                                     "round_robin", "most_proficient", "skill_development",
                                     "fewest_conversations", "ring", "fixed_order",
                                     "fewest_handled", "order_by"};
static const char *const KINDS[] = {"assigned", "offered", "unassigned"};
static const char *const STATES[] = {"with_bot", "waiting",      "offered",  "assigned",
                                     "responded", "message_left", "resolved", "abandoned"};

static void check(switchboard_status status, const char *call, int line) {
    char message[512];
    size_t len = 0;
    if (status == SWITCHBOARD_STATUS_OK) {
        return;
    }
    if (switchboard_last_error(message, sizeof message, &len) != SWITCHBOARD_STATUS_OK) {
        strcpy(message, "(message too long)");
    }
    fprintf(stderr, "line %d: %s: %s: %s\n", line, call, switchboard_status_str(status), message);
    exit(1);
}
#define CHECK(call) check((call), #call, __LINE__)

/* A call that must be refused with `want`: prints the status and message. */
static void refused(switchboard_status status, switchboard_status want, int line) {
    char message[512];
    size_t len = 0;
    if (status != want) {
        fprintf(stderr, "line %d: expected %s, got %s\n", line, switchboard_status_str(want),
                switchboard_status_str(status));
        exit(1);
    }
    CHECK(switchboard_last_error(message, sizeof message, &len));
    printf("refused: %s: %s\n", switchboard_status_str(status), message);
}
#define REFUSED(call, want) refused((call), (want), __LINE__)

static void print_queue(bool has_queue, uint32_t queue_id) {
    if (has_queue) {
        printf("queue %" PRIu32, queue_id);
    } else {
        printf("default queue");
    }
}

/* Takes and prints every queued decision. */
static void drain(switchboard_engine *engine) {
    switchboard_decision ds[8];
    size_t n = 0, i;
    CHECK(switchboard_engine_take_decisions(engine, ds, 8, &n));
    for (i = 0; i < n; i++) {
        printf("t=%" PRIu64 "s conv %" PRIu64 " (", ds[i].at_ms / 1000, ds[i].conversation_id);
        print_queue(ds[i].has_queue, ds[i].queue_id);
        printf(") %s operator %" PRIu64 ": %s\n", KINDS[ds[i].kind], ds[i].operator_id,
               ROUTES[ds[i].route]);
    }
}

static void assign(switchboard_engine *engine, uint64_t at_s) {
    size_t count = 0;
    CHECK(switchboard_engine_assign(engine, at_s * 1000, &count));
    drain(engine);
}

/* An operator on chat with billing at `level`, in a profile if `profile` > 0. */
static void add_operator(switchboard_engine *engine, uint64_t id, uint16_t capacity,
                         uint8_t level, uint32_t profile) {
    const switchboard_channel_capacity cap = {CHAT, capacity};
    const switchboard_skill_level skill = {BILLING, level};
    CHECK(switchboard_engine_operator_added(engine, 0, id, SWITCHBOARD_OPERATOR_STATUS_AVAILABLE,
                                            &cap, 1, &skill, 1, NULL, 0, false, 0, profile > 0,
                                            profile));
}

/* A chat conversation needing billing 1, in `queue` (0: the default queue). */
static switchboard_status arrive(switchboard_engine *engine, uint64_t at_s, uint64_t id,
                                 uint32_t queue) {
    const switchboard_skill_level need = {BILLING, 1};
    return switchboard_engine_conversation_arrived(engine, at_s * 1000, id, CHAT, STANDARD, &need,
                                                   1, false, 0, false, 0, queue > 0, queue);
}

static void resolve(switchboard_engine *engine, uint64_t at_s, uint64_t id) {
    CHECK(switchboard_engine_conversation_resolved(engine, at_s * 1000, id));
    drain(engine);
}

int main(void) {
    const switchboard_channel_capacity cap = {CHAT, 1};
    switchboard_engine *engine = NULL;
    switchboard_conversation_info info;
    switchboard_finished_conversation finished[16];
    switchboard_kpi *kpi = NULL;
    switchboard_kpi_summary report;
    size_t n = 0, i;

    if (SWITCHBOARD_ABI_VERSION != switchboard_abi_version()) {
        fprintf(stderr, "header ABI %d, library ABI %" PRIu32 "\n", SWITCHBOARD_ABI_VERSION,
                switchboard_abi_version());
        return 1;
    }
    CHECK(switchboard_engine_new((const uint8_t *)POLICY, strlen(POLICY), &engine));
    add_operator(engine, 1, 4, 2, 0);
    add_operator(engine, 2, 3, 5, SALES_ONLY);
    add_operator(engine, 3, 1, 2, 0);
    REFUSED(switchboard_engine_operator_added(engine, 0, 9, SWITCHBOARD_OPERATOR_STATUS_AVAILABLE,
                                              &cap, 1, NULL, 0, NULL, 0, false, 0, true, 99),
            SWITCHBOARD_STATUS_UNKNOWN_PROFILE);

    /* The default queue: operator 2 serves sales only and gets none of it. */
    CHECK(arrive(engine, 1, 1, 0));
    assign(engine, 1);
    CHECK(arrive(engine, 2, 2, 0));
    assign(engine, 2);
    resolve(engine, 2, 2);
    CHECK(arrive(engine, 3, 3, 0));
    assign(engine, 3);
    CHECK(arrive(engine, 4, 4, 0));
    assign(engine, 4);
    resolve(engine, 5, 3);
    REFUSED(arrive(engine, 5, 99, 42), SWITCHBOARD_STATUS_UNKNOWN_QUEUE);

    /* "vip": fewest handled first (operator 1 none, operator 3 two)… */
    CHECK(arrive(engine, 6, 5, VIP));
    assign(engine, 6);
    /* …and after a reset everyone has handled none: the least recently
     * picked comes first. */
    CHECK(switchboard_engine_handled_counts_reset(engine, 7000));
    CHECK(arrive(engine, 8, 6, VIP));
    assign(engine, 8);

    /* "sales": the most proficient, operator 2. */
    CHECK(arrive(engine, 9, 7, SALES));
    assign(engine, 9);

    /* Operator 2 now serves every queue. */
    CHECK(switchboard_engine_operator_profile_changed(engine, 10000, 2, false, 0));
    CHECK(arrive(engine, 10, 8, 0));
    assign(engine, 10);

    /* Conversation 1 moves to "sales", whose rule picks operator 2. */
    CHECK(switchboard_engine_conversation_transferred(engine, 11000, 1,
                                                      SWITCHBOARD_TRANSFER_TARGET_TO_QUEUE, SALES));
    drain(engine);
    CHECK(switchboard_engine_conversation(engine, 1, &info));
    printf("conv 1 after the transfer: %s in ", STATES[info.state]);
    print_queue(info.has_queue, info.queue_id);
    printf(", %" PRIu32 " transfer\n", info.transfers);
    assign(engine, 11);

    for (i = 1; i <= 8; i++) {
        if (i != 2 && i != 3) {
            resolve(engine, 12, i);
        }
    }

    /* The finished records name the queue each conversation ended in. */
    CHECK(switchboard_engine_take_finished(engine, finished, 16, &n));
    for (i = 0; i < n; i++) {
        printf("finished conv %" PRIu64 " in ", finished[i].conversation_id);
        print_queue(finished[i].has_queue, finished[i].queue_id);
        printf(", operator %" PRIu64 "\n", finished[i].operator_id);
    }
    CHECK(switchboard_kpi_new(NULL, 0, &kpi));
    CHECK(switchboard_kpi_push_finished(kpi, finished, n));
    CHECK(switchboard_kpi_report(kpi, &report));
    printf("KPI: offered %" PRIu64 ", answered %" PRIu64 ", transferred %" PRIu64 "\n",
           report.overall.offered, report.overall.answered, report.overall.transferred);
    switchboard_kpi_free(kpi);
    switchboard_engine_free(engine);
    return 0;
}
