// The C quickstart (examples/c/quickstart.c) in C++17: the same team, burst
// and output, with small RAII wrappers of its own around the C handles so
// nothing leaks on an early return or an exception.
//
// Build: install the library once, then compile with pkg-config (README
// "Use from C / C++" has the details, a static link among them):
//   capi/install.sh --prefix "$HOME/.local"
//   export PKG_CONFIG_PATH="$HOME/.local/lib/pkgconfig" LD_LIBRARY_PATH="$HOME/.local/lib"
//   c++ -std=c++17 -Wall -Wextra -Werror examples/cpp/quickstart.cpp
//       $(pkg-config --cflags --libs switchboard) -o "${TMPDIR:-/tmp}/quickstart_cpp"
//   "${TMPDIR:-/tmp}/quickstart_cpp"
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "switchboard.h"  // extern "C" through cbindgen's cpp_compat

namespace {

constexpr uint32_t CALL = 1, CHAT = 2;
constexpr uint32_t ENTERPRISE = 1, LARGE = 2, SMB = 3;
constexpr uint32_t BILLING = 1, TECH = 2;

const char POLICY[] = R"({
  "channels": [
    {"id": 1, "name": "call", "blocks": [2]},
    {"id": 2, "name": "chat"}
  ],
  "tiers": [
    {"id": 1, "name": "Enterprise", "priority": 1, "first_response_target": 60000},
    {"id": 2, "name": "Large", "priority": 2, "first_response_target": 120000},
    {"id": 3, "name": "SMB", "priority": 3, "first_response_target": 300000}
  ],
  "skills": [{"id": 1, "name": "billing"}, {"id": 2, "name": "tech"}],
  "wrap_up": 30000,
  "overflow": [{"after": 90000, "relax": {"lower_levels": 2}}]
})";

const char* const ROUTES[] = {"preferred_operator", "least_loaded",    "longest_idle",
                              "round_robin",        "most_proficient", "skill_development",
                              "fewest_conversations", "ring",         "fixed_order",
                              "fewest_handled",     "order_by"};
const char* const TRIGGERS[] = {"conversation_queued", "operator_freed", "rebalance"};
const char* const TIERS[] = {"?", "Enterprise", "Large", "SMB"};

// A failed call, with the library's message.
struct Error : std::runtime_error {
    Error(switchboard_status status, const std::string& call)
        : std::runtime_error(call + ": " + switchboard_status_str(status) + ": " + last_error()) {}

    static std::string last_error() {
        std::size_t len = 0;
        if (switchboard_last_error(nullptr, 0, &len) != SWITCHBOARD_STATUS_OK) return "?";
        std::string msg(len, '\0');
        if (switchboard_last_error(&msg[0], msg.size(), &len) != SWITCHBOARD_STATUS_OK) return "?";
        msg.resize(len - 1);  // drop the NUL
        return msg;
    }
};

void check(switchboard_status status, const char* call) {
    if (status != SWITCHBOARD_STATUS_OK) throw Error(status, call);
}
#define CHECK(call) check((call), #call)

// Owns a switchboard_engine*; frees it exactly once.
struct EngineDeleter {
    void operator()(switchboard_engine* e) const noexcept { switchboard_engine_free(e); }
};
using EnginePtr = std::unique_ptr<switchboard_engine, EngineDeleter>;

class Engine {
public:
    static Engine from_policy(const std::string& json) {
        switchboard_engine* raw = nullptr;
        CHECK(switchboard_engine_new(reinterpret_cast<const uint8_t*>(json.data()), json.size(),
                                     &raw));
        return Engine(EnginePtr(raw));
    }

    static Engine restore(const std::vector<uint8_t>& bytes) {
        switchboard_engine* raw = nullptr;
        CHECK(switchboard_engine_restore(bytes.data(), bytes.size(), &raw));
        return Engine(EnginePtr(raw));
    }

    switchboard_engine* get() const { return ptr_.get(); }

    std::vector<switchboard_decision> assign(uint64_t now_ms) {
        std::size_t count = 0;
        CHECK(switchboard_engine_assign(get(), now_ms, &count));
        return take_decisions();
    }

    // Every call that applies an event may queue decisions (an offer lapsing
    // or withdrawn, work moved back to the queue): take them after each call.
    std::vector<switchboard_decision> take_decisions() {
        std::size_t n = 0;
        CHECK(switchboard_engine_take_decisions(get(), nullptr, 0, &n));
        std::vector<switchboard_decision> out(n);
        CHECK(switchboard_engine_take_decisions(get(), out.data(), out.size(), &n));
        return out;
    }

    std::vector<uint64_t> held(uint64_t op) const {
        std::size_t n = 0;
        CHECK(switchboard_engine_operator_held(get(), op, nullptr, 0, &n));
        std::vector<uint64_t> out(n);
        CHECK(switchboard_engine_operator_held(get(), op, out.data(), out.size(), &n));
        return out;
    }

    std::vector<uint64_t> waiting() const {
        std::size_t n = 0;
        CHECK(switchboard_engine_waiting(get(), nullptr, 0, &n));
        std::vector<uint64_t> out(n);
        CHECK(switchboard_engine_waiting(get(), out.data(), out.size(), &n));
        return out;
    }

    switchboard_real_time real_time() const {
        switchboard_real_time board{};
        CHECK(switchboard_engine_real_time(get(), &board));
        return board;
    }

    switchboard_queue_status queue_status(uint64_t conversation) const {
        switchboard_queue_status q{};
        CHECK(switchboard_engine_queue_status(get(), conversation, &q));
        return q;
    }

    std::vector<switchboard_finished_conversation> take_finished() {
        std::size_t n = 0;
        CHECK(switchboard_engine_take_finished(get(), nullptr, 0, &n));
        std::vector<switchboard_finished_conversation> out(n);
        CHECK(switchboard_engine_take_finished(get(), out.data(), out.size(), &n));
        return out;
    }

    std::vector<switchboard_status_interval> take_status_intervals() {
        std::size_t n = 0;
        CHECK(switchboard_engine_take_status_intervals(get(), nullptr, 0, &n));
        std::vector<switchboard_status_interval> out(n);
        CHECK(switchboard_engine_take_status_intervals(get(), out.data(), out.size(), &n));
        return out;
    }

    std::vector<uint8_t> snapshot() const {
        std::size_t n = 0;
        CHECK(switchboard_engine_snapshot(get(), nullptr, 0, &n));
        std::vector<uint8_t> out(n);
        CHECK(switchboard_engine_snapshot(get(), out.data(), out.size(), &n));
        return out;
    }

private:
    explicit Engine(EnginePtr p) : ptr_(std::move(p)) {}
    EnginePtr ptr_;
};

void print(const std::vector<switchboard_decision>& ds) {
    for (const auto& d : ds) {
        std::printf("t=%" PRIu64 "s conv %" PRIu64 " (%s, %s) -> operator %" PRIu64
                    ": %s on %s, load %u/%u, waited %" PRIu64 " ms, step %u",
                    d.at_ms / 1000, d.conversation_id, TIERS[d.tier_id],
                    d.channel_id == CALL ? "call" : "chat", d.operator_id, ROUTES[d.route],
                    TRIGGERS[d.trigger], unsigned{d.load_before}, unsigned{d.capacity},
                    d.waited_ms, unsigned{d.overflow_step});
        for (unsigned k = 0; k < d.matched_len; k++) {
            std::printf(", skill %" PRIu32 " >=%u (has %u)", d.matched[k].skill_id,
                        unsigned{d.matched[k].required}, unsigned{d.matched[k].level});
        }
        std::printf("\n");
    }
}

// The supervisor's wall board, then where each waiting customer stands
// (position in the queue, who could take them, estimated wait).
void wall_board(const Engine& engine) {
    const switchboard_real_time board = engine.real_time();
    std::printf("wall board at t=%" PRIu64 "s: %" PRIu32 " waiting, %" PRIu32
                " with an operator",
                board.at_ms / 1000, board.conversations.waiting,
                board.conversations.with_operator);
    if (board.has_longest_wait) {
        std::printf("; longest wait conv %" PRIu64 " (%" PRIu64 " ms)",
                    board.longest_wait_conversation_id, board.longest_wait_ms);
    }
    if (board.has_bottleneck) {
        std::printf("; oldest unanswered conv %" PRIu64 " with operator %" PRIu64 " (%" PRIu64
                    " ms)",
                    board.bottleneck_conversation_id, board.bottleneck_operator_id,
                    board.bottleneck_wait_ms);
    }
    std::printf("\n");
    for (uint64_t conv : engine.waiting()) {
        const switchboard_queue_status q = engine.queue_status(conv);
        std::printf("  conv %" PRIu64 ": position %" PRIu32 ", %" PRIu32 " operators fit, %" PRIu32
                    "/%" PRIu32 " slots free, ",
                    conv, q.position, q.eligible_operators, q.free_slots, q.eligible_slots);
        if (q.has_estimated_wait) {
            std::printf("estimated wait %" PRIu64 " ms\n", q.estimated_wait_ms);
        } else {
            std::printf("no estimate\n");
        }
    }
}

// Owns a switchboard_kpi*.
struct KpiDeleter {
    void operator()(switchboard_kpi* k) const noexcept { switchboard_kpi_free(k); }
};
using KpiPtr = std::unique_ptr<switchboard_kpi, KpiDeleter>;

KpiPtr new_kpi() {
    switchboard_kpi* raw = nullptr;
    CHECK(switchboard_kpi_new(nullptr, 0, &raw));
    return KpiPtr(raw);
}

void print_kpis(const char* label, const switchboard_kpi_stats& k) {
    std::printf("KPI %s: offered %" PRIu64 ", answered %" PRIu64 ", abandoned %" PRIu64
                "; wait p50 %" PRIu64 " ms, p90 %" PRIu64 " ms, max %" PRIu64
                " ms; answered within %" PRIu64 " s: %" PRIu64 "/%" PRIu64 "\n",
                label, k.offered, k.answered, k.abandoned, k.wait.p50_ms, k.wait.p90_ms,
                k.wait.max_ms, k.service_level_threshold_ms / 1000, k.service_level.numerator,
                k.service_level.denominator);
}

struct Arrival {
    uint64_t at_s;
    uint32_t tier, channel, skill;
    uint8_t level;
};

int run() {
    if (SWITCHBOARD_ABI_VERSION != switchboard_abi_version()) {
        std::fprintf(stderr, "header and library ABI differ\n");
        return 1;
    }
    std::printf("switchboard %s, ABI %" PRIu32 "\n", switchboard_version(),
                switchboard_abi_version());

    Engine engine = Engine::from_policy(POLICY);
    const switchboard_channel_capacity mina_cap[] = {{CHAT, 3}, {CALL, 1}};
    const switchboard_skill_level mina_skills[] = {{BILLING, 5}, {TECH, 3}};
    const switchboard_channel_capacity joon_cap[] = {{CHAT, 3}};
    const switchboard_skill_level joon_skills[] = {{TECH, 4}, {BILLING, 1}};
    const switchboard_channel_capacity sora_cap[] = {{CHAT, 2}};
    const switchboard_skill_level sora_skills[] = {{BILLING, 2}, {TECH, 2}};
    const uint32_t support[] = {100};
    const uint32_t available = SWITCHBOARD_OPERATOR_STATUS_AVAILABLE;
    CHECK(switchboard_engine_operator_added(engine.get(), 0, 1, available, mina_cap, 2,
                                            mina_skills, 2, support, 1, false, 0, false, 0));
    CHECK(switchboard_engine_operator_added(engine.get(), 0, 2, available, joon_cap, 1,
                                            joon_skills, 2, support, 1, false, 0, false, 0));
    CHECK(switchboard_engine_operator_added(engine.get(), 0, 3, available, sora_cap, 1,
                                            sora_skills, 2, nullptr, 0, true, 10000, false, 0));

    const Arrival burst[] = {
        {0, SMB, CHAT, BILLING, 1},        {2, ENTERPRISE, CHAT, BILLING, 4},
        {4, LARGE, CHAT, TECH, 3},         {5, SMB, CHAT, 0, 0},
        {7, ENTERPRISE, CALL, BILLING, 3}, {9, LARGE, CHAT, BILLING, 2},
        {11, SMB, CHAT, TECH, 1},          {14, ENTERPRISE, CHAT, TECH, 4},
        {17, SMB, CHAT, BILLING, 4},       {20, LARGE, CHAT, 0, 0},
    };
    uint64_t id = 0;
    for (const auto& a : burst) {
        const switchboard_skill_level need = {a.skill, a.level};
        const uint64_t at = a.at_s * 1000;
        CHECK(switchboard_engine_conversation_arrived(engine.get(), at, ++id, a.channel, a.tier,
                                                      &need, a.skill != 0 ? 1 : 0, false, 0,
                                                      false, 0, false, 0));
        print(engine.take_decisions());
        print(engine.assign(at));
    }
    std::printf("waiting after the burst: %lu\n",
                static_cast<unsigned long>(engine.waiting().size()));
    uint64_t deadline = 0;
    bool has_deadline = false;
    CHECK(switchboard_engine_next_deadline(engine.get(), &deadline, &has_deadline));
    if (has_deadline) {
        std::printf("next deadline: t=%" PRIu64 "s\n", deadline / 1000);
    } else {
        std::printf("next deadline: none\n");
    }

    for (uint64_t now = 20000;;) {
        switchboard_state_counts states{};
        CHECK(switchboard_engine_state_counts(engine.get(), &states));
        if ((states.waiting == 0 && states.with_operator == 0) || now > 600000) break;
        now += 15000;
        for (uint64_t op = 1; op <= 3; op++) {
            const auto held = engine.held(op);
            if (held.empty()) continue;
            switchboard_conversation_info info{};
            CHECK(switchboard_engine_conversation(engine.get(), held[0], &info));
            if (info.state == SWITCHBOARD_CONVERSATION_STATE_ASSIGNED) {
                CHECK(switchboard_engine_first_response_sent(engine.get(), now, held[0]));
                print(engine.take_decisions());
            }
            CHECK(switchboard_engine_conversation_resolved(engine.get(), now, held[0]));
            print(engine.take_decisions());
        }
        print(engine.assign(now));
        // After the first resolutions: the estimate has handle times.
        if (now == 35000) wall_board(engine);
    }

    const auto finished = engine.take_finished();
    uint64_t waits = 0, longest = 0, measured = 0, responses = 0, responded = 0;
    unsigned per_tier[4] = {0, 0, 0, 0};
    for (const auto& f : finished) {
        if (f.assigned_at_ms != SWITCHBOARD_NO_TIME && f.asked_at_ms != SWITCHBOARD_NO_TIME) {
            const uint64_t wait = f.assigned_at_ms - f.asked_at_ms;
            waits += wait;
            longest = wait > longest ? wait : longest;
            measured++;
        }
        if (f.first_response_at_ms != SWITCHBOARD_NO_TIME) {
            responses += f.first_response_at_ms - f.asked_at_ms;
            responded++;
        }
        per_tier[f.tier_id]++;
    }
    std::printf("\n%lu conversations finished (Enterprise %u, Large %u, SMB %u)\n",
                static_cast<unsigned long>(finished.size()), per_tier[ENTERPRISE],
                per_tier[LARGE], per_tier[SMB]);
    std::printf("wait for an operator: mean %" PRIu64 " ms, longest %" PRIu64 " ms\n",
                measured ? waits / measured : 0, longest);
    std::printf("first response: mean %" PRIu64 " ms over %" PRIu64 " answered\n",
                responded ? responses / responded : 0, responded);

    const KpiPtr kpi = new_kpi();
    CHECK(switchboard_kpi_push_finished(kpi.get(), finished.data(), finished.size()));
    switchboard_kpi_summary report{};
    CHECK(switchboard_kpi_report(kpi.get(), &report));
    print_kpis("all", report.overall);
    std::size_t tiers_len = 0;
    CHECK(switchboard_kpi_by_tier(kpi.get(), nullptr, 0, &tiers_len));
    std::vector<switchboard_kpi_tier_stats> tiers(tiers_len);
    CHECK(switchboard_kpi_by_tier(kpi.get(), tiers.data(), tiers.size(), &tiers_len));
    for (const auto& t : tiers) print_kpis(TIERS[t.tier_id], t.stats);

    const auto intervals = engine.take_status_intervals();
    CHECK(switchboard_kpi_push_status(kpi.get(), intervals.data(), intervals.size()));
    CHECK(switchboard_kpi_report(kpi.get(), &report));
    std::printf("occupancy: busy %" PRIu64 " ms, idle %" PRIu64 " ms, from %lu activity intervals\n",
                report.overall.busy_ms, report.overall.idle_ms,
                static_cast<unsigned long>(intervals.size()));

    switchboard_status_counts statuses{};
    CHECK(switchboard_engine_status_counts(engine.get(), &statuses));
    std::printf("operators: %" PRIu32 " available, %" PRIu32 " away, %" PRIu32 " offline\n",
                statuses.available, statuses.away, statuses.offline);

    const auto snap = engine.snapshot();
    const Engine restored = Engine::restore(snap);
    std::printf("snapshot: %lu bytes, restored copy %s\n",
                static_cast<unsigned long>(snap.size()),
                restored.snapshot() == snap ? "identical" : "DIFFERENT");
    return 0;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
