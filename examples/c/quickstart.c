/* A small team, three tiers and a burst of conversations, driven through the
 * C API: every decision printed with its reason, then what happened to the
 * customers (computed from the finished records), then a snapshot round trip.
 *
 * Build: install the library once, then compile with pkg-config (README
 * "Use from C / C++" has the details, a static link among them):
 *   capi/install.sh --prefix "$HOME/.local"
 *   export PKG_CONFIG_PATH="$HOME/.local/lib/pkgconfig" LD_LIBRARY_PATH="$HOME/.local/lib"
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic examples/c/quickstart.c \
 *      $(pkg-config --cflags --libs switchboard) -o "${TMPDIR:-/tmp}/quickstart_c"
 *   "${TMPDIR:-/tmp}/quickstart_c"
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchboard.h"

/* Channels, tiers, skills as the policy declares them. */
enum { CALL = 1, CHAT = 2 };
enum { ENTERPRISE = 1, LARGE = 2, SMB = 3 };
enum { BILLING = 1, TECH = 2 };

static const char POLICY[] =
    "{"
    "\"channels\": ["
    "  {\"id\": 1, \"name\": \"call\", \"blocks\": [2]},"
    "  {\"id\": 2, \"name\": \"chat\"}"
    "],"
    "\"tiers\": ["
    "  {\"id\": 1, \"name\": \"Enterprise\", \"priority\": 1, \"first_response_target\": 60000},"
    "  {\"id\": 2, \"name\": \"Large\", \"priority\": 2, \"first_response_target\": 120000},"
    "  {\"id\": 3, \"name\": \"SMB\", \"priority\": 3, \"first_response_target\": 300000}"
    "],"
    "\"skills\": [{\"id\": 1, \"name\": \"billing\"}, {\"id\": 2, \"name\": \"tech\"}],"
    "\"wrap_up\": 30000,"
    "\"overflow\": [{\"after\": 90000, \"relax\": {\"lower_levels\": 2}}]"
    "}";

static const char *const ROUTES[] = {"preferred_operator", "least_loaded", "longest_idle",
                                     "round_robin", "most_proficient", "skill_development",
                                     "fewest_conversations", "ring", "fixed_order",
                                     "fewest_handled", "order_by"};
static const char *const TRIGGERS[] = {"conversation_queued", "operator_freed", "rebalance"};
static const char *const TIERS[] = {"?", "Enterprise", "Large", "SMB"};

/* Stops the program with the library's own message when a call fails. */
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

/* Takes and prints every queued decision. Any call that applies an event
 * may queue some (an offer lapsing, an offer withdrawn, work moved back to
 * the queue), so the program drains after every call, not only after assign. */
static void drain(switchboard_engine *engine) {
    size_t n = 0, i, k;
    switchboard_decision *ds;
    CHECK(switchboard_engine_take_decisions(engine, NULL, 0, &n)); /* size query */
    if (n == 0) {
        return;
    }
    ds = malloc(n * sizeof *ds);
    if (ds == NULL) {
        exit(1);
    }
    CHECK(switchboard_engine_take_decisions(engine, ds, n, &n));
    for (i = 0; i < n; i++) {
        const switchboard_decision *d = &ds[i];
        printf("t=%" PRIu64 "s conv %" PRIu64 " (%s, %s) -> operator %" PRIu64
               ": %s on %s, load %u/%u, waited %" PRIu64 " ms, step %u",
               d->at_ms / 1000, d->conversation_id, TIERS[d->tier_id],
               d->channel_id == CALL ? "call" : "chat", d->operator_id, ROUTES[d->route],
               TRIGGERS[d->trigger], (unsigned)d->load_before, (unsigned)d->capacity,
               d->waited_ms, (unsigned)d->overflow_step);
        for (k = 0; k < d->matched_len; k++) {
            printf(", skill %" PRIu32 " >=%u (has %u)", d->matched[k].skill_id,
                   (unsigned)d->matched[k].required, (unsigned)d->matched[k].level);
        }
        printf("\n");
    }
    free(ds);
}

/* Applies an event through the C API, then drains what it decided. */
#define EVENT(call)                                                                             \
    do {                                                                                        \
        CHECK(call);                                                                            \
        drain(engine);                                                                          \
    } while (0)

static void assign(switchboard_engine *engine, uint64_t now_ms) {
    size_t count = 0;
    CHECK(switchboard_engine_assign(engine, now_ms, &count));
    drain(engine);
}

/* The supervisor's wall board, then where each waiting customer stands
 * (position in the queue, who could take them, estimated wait). */
static void wall_board(const switchboard_engine *engine) {
    switchboard_real_time board;
    uint64_t waiting[16];
    size_t n = 0, i;
    CHECK(switchboard_engine_real_time(engine, &board));
    printf("wall board at t=%" PRIu64 "s: %" PRIu32 " waiting, %" PRIu32 " with an operator",
           board.at_ms / 1000, board.conversations.waiting, board.conversations.with_operator);
    if (board.has_longest_wait) {
        printf("; longest wait conv %" PRIu64 " (%" PRIu64 " ms)",
               board.longest_wait_conversation_id, board.longest_wait_ms);
    }
    if (board.has_bottleneck) {
        printf("; oldest unanswered conv %" PRIu64 " with operator %" PRIu64 " (%" PRIu64 " ms)",
               board.bottleneck_conversation_id, board.bottleneck_operator_id,
               board.bottleneck_wait_ms);
    }
    printf("\n");
    CHECK(switchboard_engine_waiting(engine, waiting, sizeof waiting / sizeof *waiting, &n));
    for (i = 0; i < n; i++) {
        switchboard_queue_status q;
        CHECK(switchboard_engine_queue_status(engine, waiting[i], &q));
        printf("  conv %" PRIu64 ": position %" PRIu32 ", %" PRIu32 " operators fit, %" PRIu32
               "/%" PRIu32 " slots free, ",
               waiting[i], q.position, q.eligible_operators, q.free_slots, q.eligible_slots);
        if (q.has_estimated_wait) {
            printf("estimated wait %" PRIu64 " ms\n", q.estimated_wait_ms);
        } else {
            printf("no estimate\n");
        }
    }
}

static void print_kpis(const char *label, const switchboard_kpi_stats *k) {
    printf("KPI %s: offered %" PRIu64 ", answered %" PRIu64 ", abandoned %" PRIu64
           "; wait p50 %" PRIu64 " ms, p90 %" PRIu64 " ms, max %" PRIu64
           " ms; answered within %" PRIu64 " s: %" PRIu64 "/%" PRIu64 "\n",
           label, k->offered, k->answered, k->abandoned, k->wait.p50_ms, k->wait.p90_ms,
           k->wait.max_ms, k->service_level_threshold_ms / 1000, k->service_level.numerator,
           k->service_level.denominator);
}

struct arrival {
    uint64_t at_s;
    uint32_t tier, channel, skill, level; /* skill 0: none required */
};

int main(void) {
    static const struct arrival burst[] = {
        {0, SMB, CHAT, BILLING, 1},        {2, ENTERPRISE, CHAT, BILLING, 4},
        {4, LARGE, CHAT, TECH, 3},         {5, SMB, CHAT, 0, 0},
        {7, ENTERPRISE, CALL, BILLING, 3}, {9, LARGE, CHAT, BILLING, 2},
        {11, SMB, CHAT, TECH, 1},          {14, ENTERPRISE, CHAT, TECH, 4},
        {17, SMB, CHAT, BILLING, 4},       {20, LARGE, CHAT, 0, 0},
    };
    const switchboard_channel_capacity mina_cap[] = {{CHAT, 3}, {CALL, 1}};
    const switchboard_skill_level mina_skills[] = {{BILLING, 5}, {TECH, 3}};
    const switchboard_channel_capacity joon_cap[] = {{CHAT, 3}};
    const switchboard_skill_level joon_skills[] = {{TECH, 4}, {BILLING, 1}};
    const switchboard_channel_capacity sora_cap[] = {{CHAT, 2}};
    const switchboard_skill_level sora_skills[] = {{BILLING, 2}, {TECH, 2}};
    const uint32_t support[] = {100};
    switchboard_engine *engine = NULL, *restored = NULL;
    switchboard_finished_conversation *finished;
    switchboard_status_interval *intervals;
    size_t intervals_len = 0;
    switchboard_kpi *kpi = NULL;
    switchboard_kpi_summary report;
    switchboard_kpi_tier_stats *tiers;
    size_t tiers_len = 0;
    switchboard_state_counts states;
    switchboard_status_counts statuses;
    uint8_t *snap, *snap2;
    size_t i, n = 0, snap_len = 0, snap2_len = 0;
    uint64_t now = 20000, deadline = 0, op, waits = 0, longest = 0, measured = 0;
    uint64_t responses = 0, responded = 0;
    bool has_deadline = false;
    unsigned per_tier[4] = {0, 0, 0, 0};

    if (SWITCHBOARD_ABI_VERSION != switchboard_abi_version()) {
        fprintf(stderr, "header ABI %d, library ABI %" PRIu32 "\n", SWITCHBOARD_ABI_VERSION,
                switchboard_abi_version());
        return 1;
    }
    printf("switchboard %s, ABI %" PRIu32 "\n", switchboard_version(), switchboard_abi_version());

    CHECK(switchboard_engine_new((const uint8_t *)POLICY, strlen(POLICY), &engine));
    EVENT(switchboard_engine_operator_added(engine, 0, 1, SWITCHBOARD_OPERATOR_STATUS_AVAILABLE,
                                            mina_cap, 2, mina_skills, 2, support, 1, false, 0,
                                            false, 0));
    EVENT(switchboard_engine_operator_added(engine, 0, 2, SWITCHBOARD_OPERATOR_STATUS_AVAILABLE,
                                            joon_cap, 1, joon_skills, 2, support, 1, false, 0,
                                            false, 0));
    EVENT(switchboard_engine_operator_added(engine, 0, 3, SWITCHBOARD_OPERATOR_STATUS_AVAILABLE,
                                            sora_cap, 1, sora_skills, 2, NULL, 0, true, 10000,
                                            false, 0));

    /* A burst: ten conversations in twenty seconds. */
    for (i = 0; i < sizeof burst / sizeof burst[0]; i++) {
        const switchboard_skill_level need = {burst[i].skill, (uint8_t)burst[i].level};
        uint64_t at = burst[i].at_s * 1000;
        EVENT(switchboard_engine_conversation_arrived(engine, at, i + 1, burst[i].channel,
                                                      burst[i].tier, &need,
                                                      burst[i].skill != 0 ? 1 : 0, false, 0,
                                                      false, 0, false, 0));
        assign(engine, at);
    }
    CHECK(switchboard_engine_waiting(engine, NULL, 0, &n));
    printf("waiting after the burst: %lu\n", (unsigned long)n);
    CHECK(switchboard_engine_next_deadline(engine, &deadline, &has_deadline));
    if (has_deadline) {
        printf("next deadline: t=%" PRIu64 "s\n", deadline / 1000);
    } else {
        printf("next deadline: none\n");
    }

    /* Every 15 s each operator answers and resolves their oldest conversation;
     * waiting work flows to whoever frees up. */
    for (;;) {
        CHECK(switchboard_engine_state_counts(engine, &states));
        if ((states.waiting == 0 && states.with_operator == 0) || now > 600000) {
            break;
        }
        now += 15000;
        for (op = 1; op <= 3; op++) {
            uint64_t held[8];
            size_t held_len = 0;
            switchboard_conversation_info info;
            CHECK(switchboard_engine_operator_held(engine, op, held, 8, &held_len));
            if (held_len == 0) {
                continue;
            }
            CHECK(switchboard_engine_conversation(engine, held[0], &info));
            if (info.state == SWITCHBOARD_CONVERSATION_STATE_ASSIGNED) {
                EVENT(switchboard_engine_first_response_sent(engine, now, held[0]));
            }
            EVENT(switchboard_engine_conversation_resolved(engine, now, held[0]));
        }
        assign(engine, now);
        if (now == 35000) {
            /* After the first resolutions: the estimate has handle times. */
            wall_board(engine);
        }
    }

    /* What the customers saw, from the finished records. */
    CHECK(switchboard_engine_take_finished(engine, NULL, 0, &n)); /* size query */
    finished = malloc((n > 0 ? n : 1) * sizeof *finished);
    if (finished == NULL) {
        return 1;
    }
    CHECK(switchboard_engine_take_finished(engine, finished, n, &n));
    for (i = 0; i < n; i++) {
        const switchboard_finished_conversation *f = &finished[i];
        if (f->assigned_at_ms != SWITCHBOARD_NO_TIME && f->asked_at_ms != SWITCHBOARD_NO_TIME) {
            uint64_t wait = f->assigned_at_ms - f->asked_at_ms;
            waits += wait;
            longest = wait > longest ? wait : longest;
            measured++;
        }
        if (f->first_response_at_ms != SWITCHBOARD_NO_TIME) {
            responses += f->first_response_at_ms - f->asked_at_ms;
            responded++;
        }
        per_tier[f->tier_id]++;
    }
    printf("\n%lu conversations finished (Enterprise %u, Large %u, SMB %u)\n", (unsigned long)n,
           per_tier[ENTERPRISE], per_tier[LARGE], per_tier[SMB]);
    printf("wait for an operator: mean %" PRIu64 " ms, longest %" PRIu64 " ms\n",
           measured ? waits / measured : 0, longest);
    printf("first response: mean %" PRIu64 " ms over %" PRIu64 " answered\n",
           responded ? responses / responded : 0, responded);

    /* The same records through the KPI calculators (default config: service
     * level within 20 s). */
    CHECK(switchboard_kpi_new(NULL, 0, &kpi));
    CHECK(switchboard_kpi_push_finished(kpi, finished, n));
    CHECK(switchboard_kpi_report(kpi, &report));
    print_kpis("all", &report.overall);
    CHECK(switchboard_kpi_by_tier(kpi, NULL, 0, &tiers_len));
    tiers = malloc((tiers_len > 0 ? tiers_len : 1) * sizeof *tiers);
    if (tiers == NULL) {
        return 1;
    }
    CHECK(switchboard_kpi_by_tier(kpi, tiers, tiers_len, &tiers_len));
    for (i = 0; i < tiers_len; i++) {
        print_kpis(TIERS[tiers[i].tier_id], &tiers[i].stats);
    }
    free(tiers);

    /* The operators' activity intervals, for occupancy. */
    CHECK(switchboard_engine_take_status_intervals(engine, NULL, 0, &intervals_len));
    intervals = malloc((intervals_len > 0 ? intervals_len : 1) * sizeof *intervals);
    if (intervals == NULL) {
        return 1;
    }
    CHECK(switchboard_engine_take_status_intervals(engine, intervals, intervals_len,
                                                   &intervals_len));
    CHECK(switchboard_kpi_push_status(kpi, intervals, intervals_len));
    CHECK(switchboard_kpi_report(kpi, &report));
    printf("occupancy: busy %" PRIu64 " ms, idle %" PRIu64 " ms, from %lu activity intervals\n",
           report.overall.busy_ms, report.overall.idle_ms, (unsigned long)intervals_len);
    free(intervals);
    switchboard_kpi_free(kpi);
    free(finished);

    CHECK(switchboard_engine_status_counts(engine, &statuses));
    printf("operators: %" PRIu32 " available, %" PRIu32 " away, %" PRIu32 " offline\n",
           statuses.available, statuses.away, statuses.offline);

    /* Snapshot, restore, and check the copy is the same state. */
    CHECK(switchboard_engine_snapshot(engine, NULL, 0, &snap_len));
    snap = malloc(snap_len);
    snap2 = malloc(snap_len);
    if (snap == NULL || snap2 == NULL) {
        return 1;
    }
    CHECK(switchboard_engine_snapshot(engine, snap, snap_len, &snap_len));
    CHECK(switchboard_engine_restore(snap, snap_len, &restored));
    CHECK(switchboard_engine_snapshot(restored, snap2, snap_len, &snap2_len));
    printf("snapshot: %lu bytes, restored copy %s\n", (unsigned long)snap_len,
           snap2_len == snap_len && memcmp(snap, snap2, snap_len) == 0 ? "identical" : "DIFFERENT");
    free(snap);
    free(snap2);

    switchboard_engine_free(restored);
    switchboard_engine_free(engine);
    return 0;
}
