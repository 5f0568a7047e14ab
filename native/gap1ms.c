// hanet_gap1ms: timestamped UDP streams at a fixed interval (1 ms by default) between a lab client and a server, for
// failover gap measurements at 1 ms resolution; bench/lib/gap1ms.ts starts it in the lab's namespaces and analyses
// what it records. Built by binding.gyp as build/Release/hanet_gap1ms (no Node: its timing must not depend on GC).
//
//   hanet_gap1ms client HOST PORT INTERVAL_US OUT   probes HOST:PORT; records the echoes and the server's stream
//   hanet_gap1ms server PORT INTERVAL_US OUT        echoes every probe at once; streams its own probes back to the
//                                                   client (learnt from the first probe), so each direction is
//                                                   measured on its own
// Both run until stdin closes, then keep receiving for LINGER_MS (late packets), write OUT and exit.
//
// Timing: senders and receivers run in SCHED_FIFO threads when allowed (else at normal priority) and sleep to absolute
// CLOCK_MONOTONIC deadlines (clock_nanosleep TIMER_ABSTIME), so Node's timers, which cannot keep 1 ms, play no
// part. Arrival times are the kernel's receive timestamps (SO_TIMESTAMPNS, CLOCK_REALTIME) converted to
// CLOCK_MONOTONIC with the offset measured at start; the offset at exit is written too, so a clock step shows.
// All times in OUT are CLOCK_MONOTONIC ns, comparable between the namespaces of one host.
//
// OUT lines: "# key value" headers; "S seq send_ns" sent probes; "R seq rx_ns peer_send_ns" probes received from
// the peer; "E seq rx_ns send_ns srv_rx_ns srv_tx_ns" echoes received (client).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x47415031u /* "GAP1" */
#define T_PROBE 1
#define T_ECHO 2
#define PKT_LEN 64
#define LINGER_MS 300

struct pkt {  // network byte order for magic/type/seq; times in host order (same host)
  uint32_t magic;
  uint32_t type;
  uint32_t seq;
  uint32_t pad;
  int64_t send_ns, srv_rx_ns, srv_tx_ns;
  uint8_t fill[PKT_LEN - 40];
};

struct rec { char kind; uint32_t seq; int64_t a, b, c, d; };
struct recs { struct rec* v; size_t n, cap; pthread_mutex_t mu; };

static int sock = -1;
static struct sockaddr_storage peer;
static socklen_t peer_len = 0;
static atomic_int have_peer = 0, stopping = 0;
static int64_t interval_ns = 1000000, rt_offset_start = 0;
static struct recs sent = {0, 0, 0, PTHREAD_MUTEX_INITIALIZER}, got = {0, 0, 0, PTHREAD_MUTEX_INITIALIZER};
static int fifo = 0;

static int64_t now_ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}
// CLOCK_REALTIME - CLOCK_MONOTONIC, from the tightest of a few brackets.
static int64_t rt_offset(void) {
  int64_t best = INT64_MAX, off = 0;
  for (int i = 0; i < 5; i++) {
    int64_t a = now_ns(CLOCK_MONOTONIC), r = now_ns(CLOCK_REALTIME), b = now_ns(CLOCK_MONOTONIC);
    if (b - a < best) { best = b - a; off = r - (a + b) / 2; }
  }
  return off;
}

static void add(struct recs* r, struct rec x) {
  pthread_mutex_lock(&r->mu);
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 65536;
    r->v = realloc(r->v, r->cap * sizeof(struct rec));
    if (!r->v) { perror("realloc"); exit(1); }
  }
  r->v[r->n++] = x;
  pthread_mutex_unlock(&r->mu);
}

static void* sender(void* arg) {
  (void)arg;
  struct sched_param sp = {.sched_priority = 10};
  fifo = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
  while (!atomic_load(&have_peer) && !atomic_load(&stopping)) usleep(1000);
  struct pkt p;
  memset(&p, 0, sizeof(p));
  p.magic = htonl(MAGIC);
  p.type = htonl(T_PROBE);
  int64_t next = now_ns(CLOCK_MONOTONIC);
  for (uint32_t seq = 0; !atomic_load(&stopping); seq++) {
    struct timespec ts = {next / 1000000000LL, next % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
    p.seq = htonl(seq);
    p.send_ns = now_ns(CLOCK_MONOTONIC);
    sendto(sock, &p, sizeof(p), MSG_DONTWAIT, (struct sockaddr*)&peer, peer_len);  // errors (no route...) = loss
    add(&sent, (struct rec){'S', seq, p.send_ns, 0, 0, 0});
    next += interval_ns;
    int64_t now = now_ns(CLOCK_MONOTONIC);
    if (next < now) next = now;  // late: send at once, keep the spacing from here (the record shows the lateness)
  }
  return NULL;
}

// Receives until stopped + LINGER_MS. The server echoes probes and learns its peer from the first one.
static void receive(int is_server) {
  // Real-time too: the echo is sent from here, and its promptness is part of the round trip measured.
  struct sched_param sp = {.sched_priority = 10};
  pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
  int64_t stop_at = 0;
  char buf[256], ctl[256];
  for (;;) {
    if (atomic_load(&stopping) && stop_at == 0) stop_at = now_ns(CLOCK_MONOTONIC) + LINGER_MS * 1000000LL;
    if (stop_at && now_ns(CLOCK_MONOTONIC) >= stop_at) return;
    struct pollfd pf[2] = {{sock, POLLIN, 0}, {0, POLLIN, 0}};
    int n = poll(pf, atomic_load(&stopping) ? 1 : 2, 50);
    if (n < 0 && errno != EINTR) { perror("poll"); return; }
    if (!atomic_load(&stopping) && (pf[1].revents & (POLLIN | POLLHUP))) {
      if (read(0, buf, sizeof(buf)) <= 0) atomic_store(&stopping, 1);  // stdin closed: the caller stops us
    }
    if (!(pf[0].revents & POLLIN)) continue;
    for (;;) {
      struct sockaddr_storage from;
      struct iovec iov = {buf, sizeof(buf)};
      struct msghdr m = {&from, sizeof(from), &iov, 1, ctl, sizeof(ctl), 0};
      ssize_t len = recvmsg(sock, &m, MSG_DONTWAIT);
      if (len < 0) break;
      int64_t rx = now_ns(CLOCK_MONOTONIC);
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof(ts));
          rx = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec - rt_offset_start;
        }
      }
      if (len < 40) continue;
      struct pkt p;
      memcpy(&p, buf, sizeof(p));
      if (ntohl(p.magic) != MAGIC) continue;
      uint32_t type = ntohl(p.type), seq = ntohl(p.seq);
      if (type == T_PROBE) {
        add(&got, (struct rec){'R', seq, rx, p.send_ns, 0, 0});
        if (is_server) {
          if (!atomic_load(&have_peer)) {
            memcpy(&peer, &from, m.msg_namelen);
            peer_len = m.msg_namelen;
            atomic_store(&have_peer, 1);
          }
          // echo: same seq and client send time, plus our receive and send times
          p.type = htonl(T_ECHO);
          p.srv_rx_ns = rx;
          p.srv_tx_ns = now_ns(CLOCK_MONOTONIC);
          sendto(sock, &p, sizeof(p), MSG_DONTWAIT, (struct sockaddr*)&from, m.msg_namelen);
        }
      } else if (type == T_ECHO && !is_server) {
        add(&got, (struct rec){'E', seq, rx, p.send_ns, p.srv_rx_ns, p.srv_tx_ns});
      }
    }
  }
}

static int write_out(const char* path, const char* role) {
  FILE* f = fopen(path, "w");
  if (!f) { perror(path); return 1; }
  fprintf(f, "# role %s\n# interval_ns %lld\n# fifo %d\n# rt_offset_start %lld\n# rt_offset_end %lld\n", role,
          (long long)interval_ns, fifo, (long long)rt_offset_start, (long long)rt_offset());
  for (size_t i = 0; i < sent.n; i++) fprintf(f, "S %u %lld\n", sent.v[i].seq, (long long)sent.v[i].a);
  for (size_t i = 0; i < got.n; i++) {
    struct rec* r = &got.v[i];
    if (r->kind == 'R') fprintf(f, "R %u %lld %lld\n", r->seq, (long long)r->a, (long long)r->b);
    else fprintf(f, "E %u %lld %lld %lld %lld\n", r->seq, (long long)r->a, (long long)r->b, (long long)r->c, (long long)r->d);
  }
  return fclose(f) == 0 ? 0 : 1;
}

static int usage(void) {
  fprintf(stderr, "usage: hanet_gap1ms client HOST PORT INTERVAL_US OUT | server PORT INTERVAL_US OUT\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  int is_server = strcmp(argv[1], "server") == 0;
  if (!is_server && strcmp(argv[1], "client") != 0) return usage();
  if ((is_server && argc != 5) || (!is_server && argc != 6)) return usage();
  const char* port = argv[is_server ? 2 : 3];
  interval_ns = atoll(argv[is_server ? 3 : 4]) * 1000LL;
  const char* out = argv[is_server ? 4 : 5];
  if (interval_ns < 100000) { fprintf(stderr, "interval below 100 us\n"); return 2; }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = is_server ? AI_PASSIVE : 0}, *ai;
  int e = getaddrinfo(is_server ? NULL : argv[2], port, &hints, &ai);
  if (e) { fprintf(stderr, "getaddrinfo: %s\n", gai_strerror(e)); return 2; }
  sock = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) { perror("socket"); return 1; }
  int one = 1, rcv = 4 << 20;
  setsockopt(sock, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
  setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
  if (is_server) {
    if (bind(sock, ai->ai_addr, ai->ai_addrlen) < 0) { perror("bind"); return 1; }
  } else {
    memcpy(&peer, ai->ai_addr, ai->ai_addrlen);  // unconnected: each send looks the route up afresh
    peer_len = ai->ai_addrlen;
    atomic_store(&have_peer, 1);
  }
  freeaddrinfo(ai);
  rt_offset_start = rt_offset();
  pthread_t th;
  if (pthread_create(&th, NULL, sender, NULL) != 0) { perror("pthread_create"); return 1; }
  printf("READY\n");
  fflush(stdout);
  receive(is_server);
  atomic_store(&stopping, 1);
  pthread_join(th, NULL);
  return write_out(out, is_server ? "server" : "client");
}
