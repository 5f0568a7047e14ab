// hanet link monitor: one native thread that watches public interfaces (carrier via netlink events and direct
// reads; probe frames sent on a timer and their replies matched) and wakes JavaScript only when an observation
// changes. Policy stays in TypeScript (src/os/linux/monitor.ts): JS hands in ready-made probe frames and
// byte-pattern match rules; this file knows no protocol, so NDP will need no new C code.
//
// Threads and fds: the monitor thread blocks in epoll_wait on
//   - a timerfd (absolute CLOCK_MONOTONIC deadline = the earliest due carrier read or probe slot; schedules share
//     one grid, so carrier reads and probes of every interface take one wake-up per interval),
//   - an eventfd (JS -> thread: new config, stop),
//   - an RTNLGRP_LINK netlink socket (fast path: the kernel's carrier notifications),
//   - per interface, one AF_PACKET socket that sends the probes and queues only replies (a classic BPF filter
//     compiled from the rules); it is in the epoll set only while a target is unconfirmed or missing: in steady
//     state replies are read at the next probe slot, so an idle interface costs one wake-up per interval.
// Per target with 'life' rules, one more AF_PACKET socket that is never read: the kernel counts the frames its
// filter accepts (passive liveness, see OpenLife). The safety net for the carrier is a periodic direct read
// (link-watch notifications of a device whose ifindex equals its iflink, i.e. every physical NIC, can be held back
// up to 1 s; KERNEL-FACTS.md): the device's sysfs carrier file, and a synchronous RTM_GETLINK on one more netlink
// socket when it differs from the known state (see PollCarrier).
// JS is woken through a Napi::ThreadSafeFunction (uv_async_send), at most once per batch of observations.
//
// Semantics mirror src/core/health.ts: a probe is missed only if no reply arrived before the next probe was sent
// (the socket is drained right before each send); misses are counted per probe, never per wall-clock window, and
// consecutive probes are at least half an interval apart, so a stalled thread or process never makes a false miss.
// Times are CLOCK_MONOTONIC milliseconds (the clock of process.hrtime and performance.now in Node); replies carry
// the kernel's receive time.
#include "monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hanet_monitor {
namespace {

// <linux/if.h> clashes with the <net/if.h> the rest of the addon uses: the two flags needed here, by value.
constexpr unsigned kIffUp = 0x1;
constexpr unsigned kIffLowerUp = 0x10000;
constexpr int kIfNameSize = 16;
constexpr uint32_t kSnapLen = 256;  // bytes of a matching frame the filter keeps: headers only

int64_t ClockNs(clockid_t c) {
  timespec ts;
  clock_gettime(c, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}
int64_t MonoNs() { return ClockNs(CLOCK_MONOTONIC); }
int64_t RealNs() { return ClockNs(CLOCK_REALTIME); }
double NsToMs(int64_t ns) { return static_cast<double>(ns) / 1e6; }
// "aa:bb:..." as src/proto/inet.ts formats MACs.
std::string FormatMac(const uint8_t* d, size_t n) {
  char buf[3 * 32];
  size_t k = 0;
  for (size_t i = 0; i < n && i < 32; i++) k += snprintf(buf + k, sizeof(buf) - k, i ? ":%02x" : "%02x", d[i]);
  return std::string(buf, k);
}
std::string ErrnoName(int err) {
  const char* n = strerrorname_np(err);
  return n ? n : ("E" + std::to_string(err));
}

// ---- configuration (parsed on the JS thread, applied by the monitor thread) ----

struct ByteMatch { uint32_t offset; std::vector<uint8_t> value, mask; };
struct Rule { bool reply; int ethertype; std::vector<ByteMatch> bytes; };  // ethertype -1: any
// unicast: once a reply came, the next probes go to the Ethernet address that answered instead of the frame's own
// destination (a broadcast ARP probe reaches every host of the LAN: N servers probing their gateway every 10 ms
// cost every host N*100 frames a second); back to the frame's destination after a miss or a carrier change, so a
// target whose MAC changed is found again with the next probe.
struct TargetSpec { std::string id; int64_t intervalNs; std::vector<uint8_t> frame; std::vector<Rule> rules; bool unicast = false; };
struct IfaceSpec { std::string name; int64_t carrierIntervalNs; std::vector<TargetSpec> targets; };
struct Spec { std::vector<IfaceSpec> ifaces; };

bool SameRules(const std::vector<Rule>& a, const std::vector<Rule>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (a[i].reply != b[i].reply || a[i].ethertype != b[i].ethertype || a[i].bytes.size() != b[i].bytes.size()) return false;
    for (size_t j = 0; j < a[i].bytes.size(); j++) {
      const ByteMatch &x = a[i].bytes[j], &y = b[i].bytes[j];
      if (x.offset != y.offset || x.value != y.value || x.mask != y.mask) return false;
    }
  }
  return true;
}

// Whether a frame matches one of the 'reply' rules (life frames are counted by the kernel, see OpenLife).
bool MatchesReply(const std::vector<Rule>& rules, const uint8_t* f, size_t len) {
  for (const Rule& r : rules) {
    if (!r.reply) continue;
    if (r.ethertype >= 0 && (len < 14 || ((f[12] << 8) | f[13]) != r.ethertype)) continue;
    bool ok = true;
    for (const ByteMatch& m : r.bytes) {
      if (m.offset + m.value.size() > len) { ok = false; break; }
      for (size_t i = 0; i < m.value.size() && ok; i++) ok = (f[m.offset + i] & m.mask[i]) == (m.value[i] & m.mask[i]);
      if (!ok) break;
    }
    if (ok) return true;
  }
  return false;
}

// Classic BPF: the first rule a frame matches decides (accept: keep kSnapLen bytes; else drop); no match, or our
// own outgoing frame: drop. So a socket queues only the frames it is for. Empty result: cannot express (jumps > 255).
using FilterRule = std::pair<const Rule*, bool>;  // rule, accept
std::vector<sock_filter> CompileFilter(const std::vector<FilterRule>& rules) {
  std::vector<sock_filter> p;
  p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)));
  p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1));
  p.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
  for (const auto& [r, accept] : rules) {
    std::vector<size_t> toNext;  // instructions whose jf must reach the next rule
    uint32_t minLen = r->ethertype >= 0 ? 14 : 0;
    for (const ByteMatch& m : r->bytes) minLen = std::max<uint32_t>(minLen, m.offset + static_cast<uint32_t>(m.value.size()));
    // A load beyond the frame ends the whole program with "drop": check the length first, per rule.
    if (minLen > 0) {
      p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0));
      toNext.push_back(p.size());
      p.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, minLen, 0, 0));
    }
    if (r->ethertype >= 0) {
      p.push_back(BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12));
      toNext.push_back(p.size());
      p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(r->ethertype), 0, 0));
    }
    for (const ByteMatch& m : r->bytes) {
      for (size_t i = 0; i < m.value.size();) {
        size_t n = m.value.size() - i >= 4 ? 4 : m.value.size() - i >= 2 ? 2 : 1;
        uint32_t v = 0, mask = 0;
        for (size_t k = 0; k < n; k++) {
          v = (v << 8) | (m.value[i + k] & m.mask[i + k]);
          mask = (mask << 8) | m.mask[i + k];
        }
        uint16_t size = n == 4 ? BPF_W : n == 2 ? BPF_H : BPF_B;
        p.push_back(BPF_STMT(BPF_LD | size | BPF_ABS, m.offset + static_cast<uint32_t>(i)));
        uint32_t full = n == 4 ? 0xffffffffu : n == 2 ? 0xffffu : 0xffu;
        if (mask != full) p.push_back(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask));
        toNext.push_back(p.size());
        p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v, 0, 0));
        i += n;
      }
    }
    p.push_back(BPF_STMT(BPF_RET | BPF_K, accept ? kSnapLen : 0));
    size_t next = p.size();
    for (size_t j : toNext) {
      size_t off = next - (j + 1);
      if (off > 255) return {};
      p[j].jf = static_cast<uint8_t>(off);
    }
  }
  p.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
  if (p.size() > BPF_MAXINSNS) return {};
  return p;
}

// ---- observations (monitor thread -> JS) ----

enum class ObsKind { kLink, kMiss, kReply, kError };
struct Obs {
  Obs(ObsKind k, std::string i, std::string t, int64_t a) : kind(k), iface(std::move(i)), target(std::move(t)), at(a) {}
  ObsKind kind;
  std::string iface, target;
  int64_t at;
  // link
  bool present = false, up = false, lowerUp = false;
  int ifindex = 0;
  std::string mac;
  const char* source = "";
  // miss / reply
  uint32_t misses = 0;
  int64_t lastReplyAt = -1, rttNs = -1;
  // error
  std::string code, message;
};

// State shared with the JS thread's ThreadSafeFunction callback (which may run after the monitor is gone).
struct Shared {
  std::mutex mu;
  std::vector<Obs> queue;
  bool wakePending = false;
  bool closed = false;
  uint64_t jsWakeups = 0;
  uint64_t observations = 0;
};

// ---- the monitor thread's state ----

struct Target {
  TargetSpec spec;
  int lifeFd = -1;  // counts the frames of the 'life' rules (never read: PACKET_STATISTICS), -1 without such rules
  int64_t nextDue = 0;
  int64_t lastProbeAt = -1, lastReplyAt = -1, rttNs = -1;
  bool replied = false;  // a reply was read since the last probe was sent
  uint32_t misses = 0;
  bool confirmed = false;  // a reply arrived since the last carrier change
  std::vector<uint8_t> ucFrame;  // spec.frame sent to the last answering MAC (spec.unicast); empty: use spec.frame
  uint64_t unicastSent = 0, sent = 0, suppressed = 0, replies = 0, life = 0, sendErrors = 0, missedTotal = 0;
};

struct Iface {
  uint64_t key = 0;  // epoll tag of its packet socket
  std::string name;
  int64_t carrierIntervalNs = 0;
  std::vector<Target> targets;
  int fd = -1, boundIfindex = 0, proto = 0;  // sends the probes, receives the replies
  bool watched = false;  // fd is in the epoll set with EPOLLIN
  int carrierFd = -1, carrierFileIfindex = 0;  // /sys/class/net/<name>/carrier, checked to be this device
  bool filtered = false;
  bool known = false, present = false, up = false, lowerUp = false;
  int ifindex = 0;
  std::string mac;
  int64_t carrierSince = 0, nextCarrierDue = 0;
  uint64_t carrierReads = 0, carrierFileReads = 0, linkEvents = 0, frames = 0, unmatched = 0;
  std::string lastError;
  bool ok() const { return present && up && lowerUp; }
};

struct LinkInfo { int ifindex = 0; unsigned flags = 0; std::string name, mac; };

constexpr uint64_t kTagCtl = 1, kTagTimer = 2, kTagNl = 3, kTagIfaceBase = 16;

class Engine {
 public:
  explicit Engine(std::shared_ptr<Shared> sh) : sh_(std::move(sh)) {}
  ~Engine() { CloseAll(); }

  // On the JS thread, before the thread starts: creates the fds. Returns 0 or an errno (what = the failed call).
  int Open(const char** what) {
    int probe = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // CAP_NET_RAW is needed for the packet sockets
    if (probe < 0) { *what = "socket(AF_PACKET)"; return errno; }
    close(probe);
    if ((ep_ = epoll_create1(EPOLL_CLOEXEC)) < 0) { *what = "epoll_create1"; return errno; }
    if ((tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0) { *what = "timerfd_create"; return errno; }
    if ((efd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) { *what = "eventfd"; return errno; }
    if ((nlEv_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE)) < 0) { *what = "socket(netlink)"; return errno; }
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;
    if (bind(nlEv_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) { *what = "bind(RTMGRP_LINK)"; return errno; }
    int rcv = 1 << 20;  // a burst of link events (e.g. a bridge with many ports) must not overflow: ENOBUFS = resync
    setsockopt(nlEv_, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if ((nlReq_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE)) < 0) { *what = "socket(netlink)"; return errno; }
    sockaddr_nl sr{};
    sr.nl_family = AF_NETLINK;
    if (bind(nlReq_, reinterpret_cast<sockaddr*>(&sr), sizeof(sr)) < 0) { *what = "bind(netlink)"; return errno; }
    if (!Watch(efd_, kTagCtl) || !Watch(tfd_, kTagTimer) || !Watch(nlEv_, kTagNl)) { *what = "epoll_ctl"; return errno; }
    epoch_ = MonoNs();
    return 0;
  }

  // JS thread: hand over a new configuration (applied by the thread at its next wake-up).
  void Submit(std::unique_ptr<Spec> spec) {
    { std::lock_guard<std::mutex> lk(mu_); pending_ = std::move(spec); }
    Kick();
  }
  void Stop() {
    { std::lock_guard<std::mutex> lk(mu_); stop_ = true; }
    Kick();
  }

  void Run(const std::function<void()>& notify) {
    pthread_setname_np(pthread_self(), "hanet-monitor");
    epoll_event evs[32];
    for (;;) {
      int n = epoll_wait(ep_, evs, 32, -1);
      if (n < 0 && errno != EINTR) {
        Error("", "epoll_wait", errno);
        Flush(notify);
        return;
      }
      std::unique_lock<std::mutex> lk(mu_);
      if (stop_) break;
      wakeups_++;
      int64_t now = MonoNs();
      for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == kTagCtl) {
          uint64_t v;
          while (read(efd_, &v, sizeof(v)) > 0) {}
        } else if (tag == kTagTimer) {
          uint64_t v;
          ssize_t r = read(tfd_, &v, sizeof(v));  // overruns after a stall count as one tick
          (void)r;
          armed_ = -1;
        } else if (tag == kTagNl) {
          DrainLinkEvents(now);
        } else {
          for (Iface& f : ifaces_) if (f.key == tag) DrainFrames(f);
        }
      }
      if (pending_) Apply(std::move(pending_), MonoNs());
      RunDue(MonoNs());
      for (Iface& f : ifaces_) UpdateWatch(f);
      Arm();
      lk.unlock();
      Flush(notify);
    }
  }

  // JS thread (stats()): runs `fn` with the state locked.
  template <typename F> void Inspect(F fn) {
    std::lock_guard<std::mutex> lk(mu_);
    fn(ifaces_, wakeups_);
  }

  void CloseAll() {
    for (Iface& f : ifaces_) {
      ClosePacket(f);
      CloseCarrierFile(f);
    }
    for (int* fd : {&nlReq_, &nlEv_, &efd_, &tfd_, &ep_}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }

 private:
  bool Watch(int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    return epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
  }
  void Kick() {
    uint64_t one = 1;
    ssize_t r = write(efd_, &one, sizeof(one));
    (void)r;
  }

  void Emit(Obs o) { out_.push_back(std::move(o)); }
  void Error(const std::string& iface, const char* what, int err) {
    Obs o{ObsKind::kError, iface, "", MonoNs()};
    o.code = ErrnoName(err);
    o.message = std::string(what) + ": " + o.code + " (" + strerror(err) + ")";
    Emit(std::move(o));
  }
  void Flush(const std::function<void()>& notify) {
    if (out_.empty()) return;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lk(sh_->mu);
      sh_->observations += out_.size();
      for (Obs& o : out_) sh_->queue.push_back(std::move(o));
      if (!sh_->wakePending) { sh_->wakePending = true; wake = true; }
    }
    out_.clear();
    if (wake) notify();
  }

  // The smallest point of the interval grid (anchored at the monitor's start) at least half an interval from now:
  // schedules of equal intervals coincide (one wake-up serves them all) and two probes are never closer than
  // interval/2, whatever the thread's lateness.
  int64_t NextOnGrid(int64_t interval, int64_t now) const {
    int64_t earliest = now + interval / 2 - epoch_;
    int64_t k = (earliest + interval - 1) / interval;
    return epoch_ + k * interval;
  }

  void Apply(std::unique_ptr<Spec> spec, int64_t now) {
    std::vector<Iface> next;
    for (IfaceSpec& is : spec->ifaces) {
      Iface f;
      auto old = std::find_if(ifaces_.begin(), ifaces_.end(), [&](const Iface& x) { return x.name == is.name; });
      bool rulesChanged = true;
      if (old != ifaces_.end()) {
        f = std::move(*old);
        old->fd = -1;  // moved
        old->carrierFd = -1;
        old->name.clear();
        rulesChanged = f.targets.size() != is.targets.size();
        for (size_t i = 0; !rulesChanged && i < f.targets.size(); i++)
          rulesChanged = f.targets[i].spec.id != is.targets[i].id || !SameRules(f.targets[i].spec.rules, is.targets[i].rules);
        if (rulesChanged) ClosePacket(f);  // with the old targets' sockets; reopened below with the new rules
      } else {
        f.key = kTagIfaceBase + nextKey_++;
        f.name = is.name;
      }
      // The first read is done below (source "start"); the periodic reads follow on the grid.
      if (f.carrierIntervalNs != is.carrierIntervalNs && is.carrierIntervalNs > 0) f.nextCarrierDue = NextOnGrid(is.carrierIntervalNs, now);
      f.carrierIntervalNs = is.carrierIntervalNs;
      std::vector<Target> ts;
      for (TargetSpec& tsp : is.targets) {
        Target t;
        auto ot = std::find_if(f.targets.begin(), f.targets.end(), [&](const Target& x) { return x.spec.id == tsp.id; });
        if (ot != f.targets.end()) {
          t = std::move(*ot);
          if (t.spec.intervalNs != tsp.intervalNs) t.nextDue = std::min(t.nextDue, NextOnGrid(tsp.intervalNs, now));
        } else {
          t.nextDue = now;
        }
        if (t.spec.frame != tsp.frame || !tsp.unicast) t.ucFrame.clear();
        t.spec = std::move(tsp);
        ts.push_back(std::move(t));
      }
      f.targets = std::move(ts);
      next.push_back(std::move(f));
    }
    for (Iface& f : ifaces_) {  // interfaces no longer watched
      ClosePacket(f);
      CloseCarrierFile(f);
    }
    ifaces_ = std::move(next);
    for (Iface& f : ifaces_) {
      if (!f.known || f.fd < 0) ReadCarrier(f, now, "start");
    }
  }

  // The periodic carrier read. /sys/class/net/<name>/carrier is read lock-free by the kernel (carrier_show:
  // netif_running + netif_carrier_ok, no RTNL) and costs 0.8 µs against 6 µs for an RTM_GETLINK (measured on the
  // lab's veths): it is read every interval, and only a difference from the known state costs a full RTM_GETLINK.
  // "1" = running with carrier (up, lowerUp), "0" = running without, EINVAL = not running (admin down).
  void PollCarrier(Iface& f, int64_t now) {
    if (f.carrierFd >= 0 && f.present) {
      f.carrierFileReads++;
      char b[8];
      ssize_t n = pread(f.carrierFd, b, sizeof(b), 0);
      if (n > 0 || errno == EINVAL) {
        bool up = n > 0, lowerUp = n > 0 && b[0] == '1';
        if (up == f.up && lowerUp == f.lowerUp) return;
      }
    }
    ReadCarrier(f, now, "poll");
  }

  static std::string ReadSmallFile(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    char b[64];
    ssize_t n = read(fd, b, sizeof(b));
    close(fd);
    std::string r(b, n > 0 ? static_cast<size_t>(n) : 0);
    while (!r.empty() && (r.back() == '\n' || r.back() == ' ')) r.pop_back();
    return r;
  }

  // The sysfs mounted here may belong to another network namespace (a container without its own /sys): use the
  // carrier file only if it names this very device (same ifindex and address); otherwise poll with RTM_GETLINK.
  void OpenCarrierFile(Iface& f) {
    CloseCarrierFile(f);
    f.carrierFileIfindex = f.ifindex;
    std::string dir = "/sys/class/net/" + f.name + "/";
    if (ReadSmallFile(dir + "ifindex") != std::to_string(f.ifindex) || ReadSmallFile(dir + "address") != f.mac) return;
    f.carrierFd = open((dir + "carrier").c_str(), O_RDONLY | O_CLOEXEC);
  }
  void CloseCarrierFile(Iface& f) {
    if (f.carrierFd >= 0) close(f.carrierFd);
    f.carrierFd = -1;
    f.carrierFileIfindex = 0;
  }

  void ClosePacket(Iface& f) {
    if (f.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, f.fd, nullptr);
      close(f.fd);
    }
    f.fd = -1;
    f.boundIfindex = 0;
    f.watched = false;
    for (Target& t : f.targets) {
      if (t.lifeFd >= 0) close(t.lifeFd);
      t.lifeFd = -1;
    }
  }

  // An AF_PACKET socket on f's device that queues only the frames `rules` accept. One ethertype among the accepted
  // rules: bound to it (the kernel runs the filter on that type only); otherwise ETH_P_ALL without our outgoing
  // frames; no accepting rule: protocol 0, receives nothing (a send-only socket). -1 on failure (reported).
  int OpenFiltered(Iface& f, const std::vector<FilterRule>& rules, bool* filtered, int* protocol) {
    int proto = -2;  // -2: none yet, -1: mixed
    for (const auto& [r, accept] : rules) {
      if (!accept) continue;
      int et = r->ethertype >= 0 ? r->ethertype : ETH_P_ALL;
      proto = proto == -2 ? et : proto == et ? proto : ETH_P_ALL;
    }
    proto = proto == -1 ? static_cast<int>(ETH_P_ALL) : proto == -2 ? 0 : proto;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);  // protocol 0 until bound: nothing queued
    if (fd < 0) { SocketError(f, "socket(AF_PACKET)", errno); return -1; }
    *filtered = false;
    if (proto != 0) {
      std::vector<sock_filter> prog = CompileFilter(rules);
      if (!prog.empty()) {
        sock_fprog fp{static_cast<unsigned short>(prog.size()), prog.data()};
        *filtered = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) == 0;
      }
    }
    if (proto == ETH_P_ALL) {
      int one = 1;
      setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));  // Linux >= 4.20; the filter covers older
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(static_cast<uint16_t>(proto));
    sll.sll_ifindex = f.ifindex;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) < 0) {
      int err = errno;
      close(fd);
      SocketError(f, "bind(AF_PACKET)", err);
      return -1;
    }
    *protocol = proto;
    return fd;
  }

  void OpenPacket(Iface& f) {
    ClosePacket(f);
    std::vector<FilterRule> replies;
    for (const Target& t : f.targets)
      for (const Rule& r : t.spec.rules)
        if (r.reply) replies.push_back({&r, true});
    int fd = OpenFiltered(f, replies, &f.filtered, &f.proto);
    if (fd < 0) return;
    // Kernel receive times: a reply read late (steady state, see UpdateWatch) still tells when it arrived.
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = f.key;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      int err = errno;
      close(fd);
      return SocketError(f, "epoll_ctl", err);
    }
    f.fd = fd;
    f.watched = true;
    f.boundIfindex = f.ifindex;
    for (Target& t : f.targets) OpenLife(f, t);
    f.lastError.clear();
  }

  // Passive liveness at no cost per frame: a socket whose filter accepts the target's 'life' frames (but not its
  // replies: counting the answers to our own probes would halve the probe rate), with the smallest receive
  // buffer and never read. The kernel counts every frame the filter accepts, queued or dropped
  // (PACKET_STATISTICS); the count is read once per probe slot.
  void OpenLife(Iface& f, Target& t) {
    std::vector<FilterRule> rules;
    for (const Rule& r : t.spec.rules) if (r.reply) rules.push_back({&r, false});
    size_t replyRules = rules.size();
    for (const Rule& r : t.spec.rules) if (!r.reply) rules.push_back({&r, true});
    if (rules.size() == replyRules) return;
    bool filtered = false;
    int protocol = 0;
    int fd = OpenFiltered(f, rules, &filtered, &protocol);
    if (fd < 0) return;
    if (!filtered) {  // unfiltered, every frame would count as life: better none
      close(fd);
      return SocketError(f, "life filter", EINVAL);
    }
    int zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero));  // the kernel's minimum
    t.lifeFd = fd;
    LifeFrames(t);  // start counting now
  }

  // Frames counted by the target's life socket since the last call.
  static uint64_t LifeFrames(Target& t) {
    if (t.lifeFd < 0) return 0;
    tpacket_stats st{};
    socklen_t len = sizeof(st);
    if (getsockopt(t.lifeFd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) return 0;
    return st.tp_packets;  // includes tp_drops (frames that found the buffer full)
  }

  // In steady state (every target confirmed, none missing) replies are read at the next probe slot, right before
  // the miss verdict: no wake-up per reply. While a target is unconfirmed or missing, its reply is read at once so
  // that the recovery reaches JavaScript without delay.
  void UpdateWatch(Iface& f) {
    if (f.fd < 0) return;
    bool want = false;
    for (const Target& t : f.targets) want = want || !t.confirmed || t.misses > 0;
    if (want == f.watched) return;
    epoll_event ev{};
    ev.events = want ? static_cast<uint32_t>(EPOLLIN) : 0u;
    ev.data.u64 = f.key;
    if (epoll_ctl(ep_, EPOLL_CTL_MOD, f.fd, &ev) == 0) f.watched = want;
  }

  void SocketError(Iface& f, const char* what, int err) {
    std::string code = ErrnoName(err);
    if (f.lastError == code) return;  // reported once until it changes
    f.lastError = code;
    Error(f.name, what, err);
  }

  // ---- carrier ----

  static bool ParseLink(const nlmsghdr* nh, LinkInfo* li) {
    if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return false;
    const ifinfomsg* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(nh));
    li->ifindex = ifi->ifi_index;
    li->flags = ifi->ifi_flags;
    int alen = static_cast<int>(nh->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg)));
    const rtattr* rta = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(ifi) + NLMSG_ALIGN(sizeof(ifinfomsg)));
    for (; RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
      const uint8_t* d = static_cast<const uint8_t*>(RTA_DATA(rta));
      size_t n = RTA_PAYLOAD(rta);
      if (rta->rta_type == IFLA_IFNAME) {
        li->name.assign(reinterpret_cast<const char*>(d), strnlen(reinterpret_cast<const char*>(d), n));
      } else if (rta->rta_type == IFLA_ADDRESS) {
        li->mac = FormatMac(d, n);
      }
    }
    return true;
  }

  void ApplyLink(Iface& f, int64_t now, bool present, const LinkInfo& li, const char* source) {
    bool up = present && (li.flags & kIffUp) != 0;
    bool lowerUp = present && (li.flags & kIffLowerUp) != 0;
    int ifindex = present ? li.ifindex : 0;
    const std::string& mac = present ? li.mac : f.mac;
    bool changed = !f.known || present != f.present || up != f.up || lowerUp != f.lowerUp || ifindex != f.ifindex || mac != f.mac;
    bool wasOk = f.known && f.ok();
    bool isOk = present && up && lowerUp;
    if (!f.known || wasOk != isOk) {
      // As PublicHealth.carrier(): a change of the carrier verdict restarts miss counting and confirmation; on
      // the way up, probe at once rather than at the next grid point.
      f.carrierSince = now;
      for (Target& t : f.targets) {
        t.misses = 0;
        t.confirmed = false;
        t.ucFrame.clear();
        t.life += LifeFrames(t);  // frames before the change are no life after it
        if (isOk) t.nextDue = now;
      }
    }
    f.known = true;
    f.present = present;
    f.up = up;
    f.lowerUp = lowerUp;
    f.ifindex = ifindex;
    f.mac = mac;
    if (changed) {
      Obs o{ObsKind::kLink, f.name, "", now};
      o.present = present;
      o.up = up;
      o.lowerUp = lowerUp;
      o.ifindex = ifindex;
      o.mac = f.mac;
      o.source = source;
      Emit(std::move(o));
    }
    if (present && (f.fd < 0 || f.boundIfindex != ifindex)) OpenPacket(f);
    if (present && f.carrierFileIfindex != ifindex) OpenCarrierFile(f);
    if (!present) {
      ClosePacket(f);
      CloseCarrierFile(f);
    }
  }

  // A fresh RTM_GETLINK by name: rtnetlink answers inside sendto(), so the reply is queued when it returns.
  void ReadCarrier(Iface& f, int64_t now, const char* source) {
    struct {
      nlmsghdr nh;
      ifinfomsg ifi;
      char attrs[64];
    } req{};
    size_t len = NLMSG_LENGTH(sizeof(ifinfomsg));
    auto add = [&](uint16_t type, const void* data, size_t n) {
      rtattr* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(len));
      rta->rta_type = type;
      rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(n));
      memcpy(RTA_DATA(rta), data, n);
      len = NLMSG_ALIGN(len) + RTA_ALIGN(rta->rta_len);
    };
    uint32_t mask = RTEXT_FILTER_SKIP_STATS;  // keeps the reply small
    add(IFLA_EXT_MASK, &mask, sizeof(mask));
    add(IFLA_IFNAME, f.name.c_str(), f.name.size() + 1);
    req.nh.nlmsg_len = static_cast<uint32_t>(len);
    req.nh.nlmsg_type = RTM_GETLINK;
    req.nh.nlmsg_flags = NLM_F_REQUEST;
    req.nh.nlmsg_seq = ++seq_;
    f.carrierReads++;
    if (send(nlReq_, &req, len, 0) < 0) return Error(f.name, "RTM_GETLINK send", errno);
    for (int tries = 0; tries < 8; tries++) {
      ssize_t n = recv(nlReq_, rbuf_, sizeof(rbuf_), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          pollfd p{nlReq_, POLLIN, 0};
          poll(&p, 1, 100);
          continue;
        }
        return Error(f.name, "RTM_GETLINK recv", errno);
      }
      for (nlmsghdr* nh = reinterpret_cast<nlmsghdr*>(rbuf_); NLMSG_OK(nh, static_cast<size_t>(n)); nh = NLMSG_NEXT(nh, n)) {
        if (nh->nlmsg_seq != seq_) continue;  // a late reply to an earlier request
        if (nh->nlmsg_type == NLMSG_ERROR) {
          int err = -static_cast<const nlmsgerr*>(NLMSG_DATA(nh))->error;
          if (err == ENODEV) return ApplyLink(f, now, false, LinkInfo{}, source);
          return Error(f.name, "RTM_GETLINK", err);
        }
        LinkInfo li;
        if (nh->nlmsg_type == RTM_NEWLINK && ParseLink(nh, &li)) return ApplyLink(f, now, true, li, source);
      }
    }
  }

  void DrainLinkEvents(int64_t now) {
    for (;;) {
      ssize_t n = recv(nlEv_, rbuf_, sizeof(rbuf_), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {  // events were lost: read every interface afresh
          for (Iface& f : ifaces_) ReadCarrier(f, now, "resync");
          continue;
        }
        return;
      }
      for (nlmsghdr* nh = reinterpret_cast<nlmsghdr*>(rbuf_); NLMSG_OK(nh, static_cast<size_t>(n)); nh = NLMSG_NEXT(nh, n)) {
        if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK) continue;
        LinkInfo li;
        if (!ParseLink(nh, &li)) continue;
        for (Iface& f : ifaces_) {
          bool byName = !li.name.empty() && li.name == f.name;
          bool byIndex = f.present && f.ifindex == li.ifindex;
          if (!byName && !byIndex) continue;
          f.linkEvents++;
          if (!byName) ReadCarrier(f, now, "event");  // renamed or nameless: ask the kernel by name
          else ApplyLink(f, now, nh->nlmsg_type == RTM_NEWLINK, li, "event");
        }
      }
    }
  }

  // ---- probes and replies ----

  // Reads what is queued, kBatch frames per recvmmsg (one call also tells that the queue is empty). Bounded, so that
  // a flood cannot starve the timer (epoll is level-triggered and calls again); the socket only queues replies.
  void DrainFrames(Iface& f) {
    if (f.fd < 0) return;
    for (int round = 0; round < 64; round++) {
      mmsghdr msgs[kBatch];
      iovec iov[kBatch];
      sockaddr_ll from[kBatch];
      alignas(cmsghdr) char ctl[kBatch][CMSG_SPACE(sizeof(timespec)) + 64];
      for (int i = 0; i < kBatch; i++) {
        iov[i] = {fbuf_[i], sizeof(fbuf_[i])};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
        msgs[i].msg_hdr.msg_control = ctl[i];
        msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
      }
      int n = recvmmsg(f.fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EINTR || errno == ENETDOWN) continue;
        return;
      }
      int64_t now = MonoNs();
      int64_t realMinusMono = RealNs() - now;
      for (int i = 0; i < n; i++) {
        if (from[i].sll_pkttype == PACKET_OUTGOING || from[i].sll_ifindex != f.boundIfindex) continue;
        int64_t at = now;  // the kernel's receive time (CLOCK_REALTIME) on our clock; else when read
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
          if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
          timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof(ts));
          at = std::min<int64_t>(now, static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec - realMinusMono);
        }
        OnFrame(f, fbuf_[i], std::min<size_t>(msgs[i].msg_len, sizeof(fbuf_[i])), at);
      }
      if (n < kBatch) return;
    }
  }

  void OnFrame(Iface& f, const uint8_t* frame, size_t len, int64_t at) {
    f.frames++;
    bool any = false;
    for (Target& t : f.targets) {
      if (!MatchesReply(t.spec.rules, frame, len)) continue;
      any = true;
      t.replies++;
      t.replied = true;
      t.lastReplyAt = at;
      if (t.lastProbeAt >= 0 && at >= t.lastProbeAt) t.rttNs = at - t.lastProbeAt;
      if (t.misses > 0 || !t.confirmed) {
        Obs o{ObsKind::kReply, f.name, t.spec.id, at};
        o.misses = t.misses;  // how many probes were missed before this reply
        o.rttNs = t.rttNs;
        o.mac = FormatMac(frame + 6, 6);  // who answered (e.g. to add its MAC as a life rule)
        Emit(std::move(o));
      }
      t.misses = 0;
      t.confirmed = true;
      if (t.spec.unicast && t.spec.frame.size() >= 14) {
        t.ucFrame = t.spec.frame;
        memcpy(t.ucFrame.data(), frame + 6, 6);
      }
    }
    if (!any) f.unmatched++;
  }

  // One probe slot of a target, mirroring PublicHealth.probeSent(): the previous probe is missed if no reply was
  // read since it was sent (the socket was drained just before: whatever arrived before this slot is counted).
  // Order, not clock readings, decides, so neither a late thread nor a late read can turn a reply into a miss.
  // Passive liveness: while confirmed and not missing, a slot in which life frames arrived needs no probe.
  void Tick(Iface& f, Target& t, int64_t now) {
    uint64_t life = LifeFrames(t);  // since the last slot (or the last carrier change)
    t.life += life;
    if (!f.ok()) return;
    if (t.lastProbeAt >= 0 && t.lastProbeAt >= f.carrierSince && !t.replied) {
      t.ucFrame.clear();  // the next probe goes to the frame's own destination (the target may have a new MAC)
      t.misses++;
      t.missedTotal++;
      Obs o{ObsKind::kMiss, f.name, t.spec.id, now};
      o.misses = t.misses;
      o.lastReplyAt = t.lastReplyAt;
      Emit(std::move(o));
    }
    bool answered = t.lastProbeAt < 0 || t.replied;
    if (t.confirmed && t.misses == 0 && answered && life > 0) {
      t.suppressed++;
      return;
    }
    if (f.fd < 0 || t.spec.frame.size() < 14) return;
    const std::vector<uint8_t>& frame = t.ucFrame.empty() ? t.spec.frame : t.ucFrame;
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(static_cast<uint16_t>((frame[12] << 8) | frame[13]));
    to.sll_ifindex = f.boundIfindex;
    to.sll_halen = 6;
    memcpy(to.sll_addr, frame.data(), 6);
    ssize_t r;
    do {
      r = sendto(f.fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      // As the daemon: a probe that could not be sent is no probe (the carrier read tells why).
      t.sendErrors++;
      return SocketError(f, "probe sendto", errno);
    }
    t.sent++;
    if (!t.ucFrame.empty()) t.unicastSent++;
    t.lastProbeAt = now;
    t.replied = false;
    f.lastError.clear();
  }

  void RunDue(int64_t now) {
    for (Iface& f : ifaces_) {
      if (f.carrierIntervalNs > 0 && now + Slack(f.carrierIntervalNs) >= f.nextCarrierDue) {
        PollCarrier(f, now);
        f.nextCarrierDue = NextOnGrid(f.carrierIntervalNs, now);
      }
    }
    for (Iface& f : ifaces_) {
      bool drained = false;
      for (Target& t : f.targets) {
        if (now + Slack(t.spec.intervalNs) < t.nextDue) continue;
        if (!drained) { DrainFrames(f); drained = true; }
        Tick(f, t, MonoNs());
        t.nextDue = NextOnGrid(t.spec.intervalNs, now);
      }
    }
  }
  static int64_t Slack(int64_t interval) { return std::min<int64_t>(1000000, interval / 4); }

  void Arm() {
    int64_t next = LLONG_MAX;
    for (const Iface& f : ifaces_) {
      if (f.carrierIntervalNs > 0) next = std::min(next, f.nextCarrierDue);
      if (f.ok()) for (const Target& t : f.targets) next = std::min(next, t.nextDue);  // a dead port needs no probe slots
    }
    if (next == armed_) return;
    itimerspec its{};
    if (next != LLONG_MAX) {
      int64_t at = std::max<int64_t>(next, 1);
      its.it_value.tv_sec = at / 1000000000LL;
      its.it_value.tv_nsec = at % 1000000000LL;
    }
    timerfd_settime(tfd_, TFD_TIMER_ABSTIME, &its, nullptr);
    armed_ = next;
  }

  std::shared_ptr<Shared> sh_;
  std::mutex mu_;  // the thread holds it while it works; stats() and Submit() take it briefly
  std::unique_ptr<Spec> pending_;
  bool stop_ = false;
  std::vector<Iface> ifaces_;
  std::vector<Obs> out_;
  int ep_ = -1, tfd_ = -1, efd_ = -1, nlEv_ = -1, nlReq_ = -1;
  int64_t epoch_ = 0, armed_ = -1;
  uint32_t seq_ = 0;
  uint64_t nextKey_ = 0, wakeups_ = 0;
  alignas(8) uint8_t rbuf_[64 * 1024];
  static constexpr int kBatch = 8;
  uint8_t fbuf_[kBatch][kSnapLen];  // the filter keeps kSnapLen bytes of a frame
};

// ---- JS binding ----

Napi::Value ThrowType(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool GetNumber(Napi::Object o, const char* key, double* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return false;
  *out = v.As<Napi::Number>().DoubleValue();
  return std::isfinite(*out);
}

std::vector<uint8_t> Bytes(Napi::Value v) {
  auto b = v.As<Napi::Buffer<uint8_t>>();
  return std::vector<uint8_t>(b.Data(), b.Data() + b.Length());
}

// Calls fn on every element of the array `v` (named `what` in errors), which must all be objects.
template <typename F>
bool EachObject(Napi::Value v, const char* what, std::string* err, F fn) {
  if (!v.IsArray()) { *err = std::string(what) + " must be an array"; return false; }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    if (!a.Get(i).IsObject()) { *err = std::string(what) + "[] must be objects"; return false; }
    if (!fn(a.Get(i).As<Napi::Object>())) return false;
  }
  return true;
}

bool Fail(std::string* err, const char* msg) {
  *err = msg;
  return false;
}

bool ParseByteMatch(Napi::Object o, Rule* r, std::string* err) {
  ByteMatch bm;
  double off;
  if (!GetNumber(o, "offset", &off) || off < 0 || off > 1500 || !o.Get("value").IsBuffer()) return Fail(err, "bytes: offset 0-1500, value (Buffer)");
  bm.offset = static_cast<uint32_t>(off);
  bm.value = Bytes(o.Get("value"));
  bm.mask = o.Get("mask").IsBuffer() ? Bytes(o.Get("mask")) : std::vector<uint8_t>(bm.value.size(), 0xff);
  if (bm.value.empty() || bm.mask.size() != bm.value.size() || bm.offset + bm.value.size() > kSnapLen) {
    return Fail(err, "bytes: value non-empty, mask of the same length, within the first 256 bytes");
  }
  r->bytes.push_back(std::move(bm));
  return true;
}

bool ParseRule(Napi::Object o, TargetSpec* t, std::string* err) {
  Rule r;
  double et;
  if (!o.Get("reply").IsBoolean() || !GetNumber(o, "ethertype", &et) || et < -1 || et > 0xffff) return Fail(err, "rule: reply (boolean), ethertype (-1 or 0-65535)");
  r.reply = o.Get("reply").As<Napi::Boolean>().Value();
  r.ethertype = static_cast<int>(et);
  if (!EachObject(o.Get("bytes"), "rule.bytes", err, [&](Napi::Object b) { return ParseByteMatch(b, &r, err); })) return false;
  t->rules.push_back(std::move(r));
  return true;
}

bool ParseTarget(Napi::Object o, IfaceSpec* is, std::string* err) {
  TargetSpec t;
  double iv;
  if (!o.Get("id").IsString() || !GetNumber(o, "intervalMs", &iv) || iv < 1 || !o.Get("frame").IsBuffer()) return Fail(err, "target: id, intervalMs >= 1, frame (Buffer)");
  t.id = o.Get("id").As<Napi::String>().Utf8Value();
  t.intervalNs = static_cast<int64_t>(iv * 1e6);
  t.frame = Bytes(o.Get("frame"));
  if (t.frame.size() < 14 || t.frame.size() > 1514) return Fail(err, "target.frame: an Ethernet frame of 14-1514 bytes");
  t.unicast = o.Has("unicast") && o.Get("unicast").ToBoolean().Value();
  if (!EachObject(o.Get("rules"), "target.rules", err, [&](Napi::Object r) { return ParseRule(r, &t, err); })) return false;
  is->targets.push_back(std::move(t));
  return true;
}

bool ParseIface(Napi::Object o, Spec* spec, std::string* err) {
  IfaceSpec is;
  double ci;
  if (!o.Get("ifname").IsString() || !GetNumber(o, "carrierIntervalMs", &ci) || ci < 0) return Fail(err, "interface: ifname, carrierIntervalMs >= 0");
  is.name = o.Get("ifname").As<Napi::String>().Utf8Value();
  if (is.name.empty() || is.name.size() >= static_cast<size_t>(kIfNameSize)) return Fail(err, "ifname: 1-15 characters");
  is.carrierIntervalNs = static_cast<int64_t>(ci * 1e6);
  if (!EachObject(o.Get("targets"), "interface.targets", err, [&](Napi::Object t) { return ParseTarget(t, &is, err); })) return false;
  spec->ifaces.push_back(std::move(is));
  return true;
}

// Parses { interfaces: [{ ifname, carrierIntervalMs, targets: [{ id, intervalMs, frame, rules: [{ reply,
// ethertype, bytes: [{ offset, value, mask }] }] }] }] }. Deeper checks are the TypeScript wrapper's.
bool ParseSpec(Napi::Value v, Spec* spec, std::string* err) {
  if (!v.IsObject()) return Fail(err, "config must be an object");
  return EachObject(v.As<Napi::Object>().Get("interfaces"), "config.interfaces", err, [&](Napi::Object o) { return ParseIface(o, spec, err); });
}

Napi::Object ObsToJs(Napi::Env env, const Obs& o) {
  Napi::Object r = Napi::Object::New(env);
  static const char* kinds[] = {"link", "miss", "reply", "error"};
  r.Set("type", kinds[static_cast<int>(o.kind)]);
  r.Set("iface", o.iface);
  r.Set("at", NsToMs(o.at));
  switch (o.kind) {
    case ObsKind::kLink:
      r.Set("present", o.present);
      r.Set("up", o.up);
      r.Set("lowerUp", o.lowerUp);
      r.Set("ifindex", o.ifindex);
      r.Set("mac", o.mac);
      r.Set("source", o.source);
      break;
    case ObsKind::kMiss:
      r.Set("target", o.target);
      r.Set("misses", o.misses);
      if (o.lastReplyAt >= 0) r.Set("lastReplyAt", NsToMs(o.lastReplyAt));
      break;
    case ObsKind::kReply:
      r.Set("target", o.target);
      r.Set("afterMisses", o.misses);
      r.Set("from", o.mac);
      if (o.rttNs >= 0) r.Set("rttMs", NsToMs(o.rttNs));
      break;
    case ObsKind::kError:
      r.Set("code", o.code);
      r.Set("message", o.message);
      break;
  }
  return r;
}

// new Monitor(config, cb(observations[])); update(config); stats(); close(); ref(); unref().
class Monitor : public Napi::ObjectWrap<Monitor> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Monitor",
                       {InstanceMethod("update", &Monitor::Update), InstanceMethod("stats", &Monitor::Stats),
                        InstanceMethod("close", &Monitor::CloseJs), InstanceMethod("ref", &Monitor::RefLoop),
                        InstanceMethod("unref", &Monitor::UnrefLoop)});
  }

  explicit Monitor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Monitor>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[1].IsFunction()) { ThrowType(env, "new Monitor(config, callback)"); return; }
    auto spec = std::make_unique<Spec>();
    std::string err;
    if (!ParseSpec(info[0], spec.get(), &err)) { ThrowType(env, "Monitor config: " + err); return; }
    sh_ = std::make_shared<Shared>();
    engine_ = std::make_unique<Engine>(sh_);
    const char* what = "";
    int e = engine_->Open(&what);
    if (e != 0) {
      engine_.reset();
      std::string code = ErrnoName(e);
      Napi::Error er = Napi::Error::New(env, std::string(what) + ": " + code + " (" + strerror(e) + ")");
      er.Set("code", code);
      er.Set("errno", Napi::Number::New(env, e));
      er.Set("syscall", what);
      er.ThrowAsJavaScriptException();
      return;
    }
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "hanet:monitor", 0, 1);
    engine_->Submit(std::move(spec));
    std::shared_ptr<Shared> sh = sh_;
    Napi::ThreadSafeFunction tsfn = tsfn_;
    std::function<void()> notify = [sh, tsfn]() mutable {
      tsfn.NonBlockingCall([sh](Napi::Env env, Napi::Function cb) { Deliver(sh, env, cb); });
    };
    Engine* eng = engine_.get();
    thread_ = std::thread([eng, notify]() { eng->Run(notify); });
    napi_add_env_cleanup_hook(env, &Monitor::Cleanup, this);
    hooked_ = true;
  }

  ~Monitor() override { Shutdown(); }

 private:
  static void Deliver(const std::shared_ptr<Shared>& sh, Napi::Env env, Napi::Function cb) {
    std::vector<Obs> batch;
    {
      std::lock_guard<std::mutex> lk(sh->mu);
      batch.swap(sh->queue);
      sh->wakePending = false;
      if (sh->closed || batch.empty()) return;
      sh->jsWakeups++;
    }
    if (env == nullptr) return;
    Napi::HandleScope scope(env);
    Napi::Array arr = Napi::Array::New(env, batch.size());
    for (size_t i = 0; i < batch.size(); i++) arr.Set(static_cast<uint32_t>(i), ObsToJs(env, batch[i]));
    cb.Call({arr});
    if (env.IsExceptionPending()) {
      Napi::Error e = env.GetAndClearPendingException();
      napi_fatal_exception(env, e.Value());  // surfaces as 'uncaughtException', like any event callback
    }
  }

  static void Cleanup(void* arg) {
    Monitor* self = static_cast<Monitor*>(arg);
    self->hooked_ = false;  // the hook is being run: do not remove it
    self->Shutdown();
  }

  // Stops and joins the thread, closes every fd; idempotent. The TSFN is released so the loop may exit.
  void Shutdown() {
    if (!engine_) return;
    engine_->Stop();
    if (thread_.joinable()) thread_.join();
    engine_->CloseAll();
    {
      std::lock_guard<std::mutex> lk(sh_->mu);
      sh_->closed = true;
      sh_->queue.clear();
    }
    tsfn_.Release();
    if (hooked_) {
      napi_remove_env_cleanup_hook(Env(), &Monitor::Cleanup, this);
      hooked_ = false;
    }
    engine_.reset();
  }

  Napi::Value Update(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!engine_) return ThrowType(env, "monitor closed");
    auto spec = std::make_unique<Spec>();
    std::string err;
    if (!ParseSpec(info[0], spec.get(), &err)) return ThrowType(env, "Monitor config: " + err);
    engine_->Submit(std::move(spec));
    return env.Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!engine_) return env.Null();
    Napi::Object r = Napi::Object::New(env);
    engine_->Inspect([&](const std::vector<Iface>& ifaces, uint64_t wakeups) {
      r.Set("wakeups", static_cast<double>(wakeups));
      Napi::Array arr = Napi::Array::New(env, ifaces.size());
      for (size_t i = 0; i < ifaces.size(); i++) {
        const Iface& f = ifaces[i];
        Napi::Object o = Napi::Object::New(env);
        o.Set("ifname", f.name);
        o.Set("ifindex", f.ifindex);
        o.Set("present", f.present);
        o.Set("up", f.up);
        o.Set("lowerUp", f.lowerUp);
        o.Set("socket", f.fd >= 0);
        o.Set("protocol", f.proto);
        o.Set("filtered", f.filtered);
        o.Set("watched", f.watched);
        o.Set("carrierReads", static_cast<double>(f.carrierReads));
        o.Set("carrierFile", f.carrierFd >= 0);
        o.Set("carrierFileReads", static_cast<double>(f.carrierFileReads));
        o.Set("linkEvents", static_cast<double>(f.linkEvents));
        o.Set("frames", static_cast<double>(f.frames));
        o.Set("unmatched", static_cast<double>(f.unmatched));
        Napi::Array ta = Napi::Array::New(env, f.targets.size());
        for (size_t j = 0; j < f.targets.size(); j++) {
          const Target& t = f.targets[j];
          Napi::Object to = Napi::Object::New(env);
          to.Set("id", t.spec.id);
          to.Set("misses", t.misses);
          to.Set("confirmed", t.confirmed);
          to.Set("sent", static_cast<double>(t.sent));
          to.Set("unicastSent", static_cast<double>(t.unicastSent));
          to.Set("suppressed", static_cast<double>(t.suppressed));
          to.Set("replies", static_cast<double>(t.replies));
          to.Set("life", static_cast<double>(t.life));
          to.Set("lifeSocket", t.lifeFd >= 0);
          to.Set("sendErrors", static_cast<double>(t.sendErrors));
          to.Set("missed", static_cast<double>(t.missedTotal));
          if (t.lastProbeAt >= 0) to.Set("lastProbeAt", NsToMs(t.lastProbeAt));
          if (t.lastReplyAt >= 0) to.Set("lastReplyAt", NsToMs(t.lastReplyAt));
          if (t.rttNs >= 0) to.Set("rttMs", NsToMs(t.rttNs));
          ta.Set(static_cast<uint32_t>(j), to);
        }
        o.Set("targets", ta);
        arr.Set(static_cast<uint32_t>(i), o);
      }
      r.Set("interfaces", arr);
    });
    {
      std::lock_guard<std::mutex> lk(sh_->mu);
      r.Set("jsWakeups", static_cast<double>(sh_->jsWakeups));
      r.Set("observations", static_cast<double>(sh_->observations));
    }
    return r;
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }
  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (engine_) tsfn_.Ref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (engine_) tsfn_.Unref(info.Env());
    return info.Env().Undefined();
  }

  std::shared_ptr<Shared> sh_;
  std::unique_ptr<Engine> engine_;
  std::thread thread_;
  Napi::ThreadSafeFunction tsfn_;
  bool hooked_ = false;
};

// monotonicNowMs(): CLOCK_MONOTONIC in ms, the clock of the monitor's `at` times (and of process.hrtime).
Napi::Value MonotonicNowMs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), NsToMs(MonoNs())); }

}  // namespace

void InitMonitor(Napi::Env env, Napi::Object exports) {
  exports.Set("Monitor", Monitor::Init(env));
  exports.Set("monotonicNowMs", Napi::Function::New(env, MonotonicNowMs));
}

}  // namespace hanet_monitor
