// hanet's small N-API addon: generic non-blocking socket syscalls (netlink, AF_PACKET), TUN open and carrier,
// serial-line termios, pseudo-terminal pairs (lab), and a libuv uv_poll_t readiness watcher. Policy lives in TypeScript (src/os/linux/native.ts).
//
// Every fd is created with O_NONBLOCK|O_CLOEXEC. Receives are synchronous and return null on EAGAIN,
// so JS drains a socket in a loop after a readiness callback. Failures become JS Errors with
// `code` = errno name (e.g. "EPERM"), `errno` = number and `syscall`.
#include <napi.h>
#include <uv.h>

#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>
#include <stdlib.h>

namespace {

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  const char* name = strerrorname_np(err);
  std::string code = name ? name : ("E" + std::to_string(err));
  std::string msg = std::string(syscall) + ": " + code + " (" + strerror(err) + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const char* msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool ArgInt(const Napi::CallbackInfo& info, size_t i, int* out) {
  if (info.Length() <= i || !info[i].IsNumber()) return false;
  *out = info[i].As<Napi::Number>().Int32Value();
  return true;
}

// socket(domain, type, protocol) -> fd ; SOCK_NONBLOCK|SOCK_CLOEXEC are always added.
Napi::Value Socket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int domain, type, protocol;
  if (!ArgInt(info, 0, &domain) || !ArgInt(info, 1, &type) || !ArgInt(info, 2, &protocol))
    return ThrowType(env, "socket(domain, type, protocol): numbers expected");
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  return Napi::Number::New(env, fd);
}

// bind(fd, sockaddr: Buffer)
Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsBuffer())
    return ThrowType(env, "bind(fd, sockaddr: Buffer)");
  auto addr = info[1].As<Napi::Buffer<uint8_t>>();
  if (bind(fd, reinterpret_cast<const sockaddr*>(addr.Data()), static_cast<socklen_t>(addr.Length())) < 0)
    return ThrowErrno(env, "bind", errno);
  return env.Undefined();
}

// sendto(fd, data: Buffer, sockaddr: Buffer | null) -> bytes sent (throws EAGAIN if the socket is full)
Napi::Value SendTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsBuffer())
    return ThrowType(env, "sendto(fd, data: Buffer, sockaddr: Buffer | null)");
  auto data = info[1].As<Napi::Buffer<uint8_t>>();
  const sockaddr* sa = nullptr;
  socklen_t salen = 0;
  if (info.Length() >= 3 && info[2].IsBuffer()) {
    auto addr = info[2].As<Napi::Buffer<uint8_t>>();
    sa = reinterpret_cast<const sockaddr*>(addr.Data());
    salen = static_cast<socklen_t>(addr.Length());
  }
  ssize_t n;
  do {
    n = sendto(fd, data.Data(), data.Length(), MSG_NOSIGNAL, sa, salen);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowErrno(env, "sendto", errno);
  return Napi::Number::New(env, static_cast<double>(n));
}

// recvfrom(fd, buf: Buffer) -> null on EAGAIN, else { length, address: Buffer, truncated }
// `length` is the datagram's real length (MSG_TRUNC); truncated = length > buf.length.
Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsBuffer())
    return ThrowType(env, "recvfrom(fd, buf: Buffer)");
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  sockaddr_storage ss;
  socklen_t sslen = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  ssize_t n;
  do {
    n = recvfrom(fd, buf.Data(), buf.Length(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&ss), &sslen);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    return ThrowErrno(env, "recvfrom", errno);
  }
  if (sslen > sizeof(ss)) sslen = sizeof(ss);
  Napi::Object r = Napi::Object::New(env);
  r.Set("length", Napi::Number::New(env, static_cast<double>(n)));
  r.Set("address", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(&ss), sslen));
  r.Set("truncated", Napi::Boolean::New(env, static_cast<size_t>(n) > buf.Length()));
  return r;
}

// read(fd, buf) -> null on EAGAIN, else bytes read (for TUN fds)
Napi::Value Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsBuffer()) return ThrowType(env, "read(fd, buf: Buffer)");
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  ssize_t n;
  do {
    n = read(fd, buf.Data(), buf.Length());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    return ThrowErrno(env, "read", errno);
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// write(fd, buf) -> bytes written (for TUN fds)
Napi::Value Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsBuffer()) return ThrowType(env, "write(fd, buf: Buffer)");
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  ssize_t n;
  do {
    n = write(fd, buf.Data(), buf.Length());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowErrno(env, "write", errno);
  return Napi::Number::New(env, static_cast<double>(n));
}

// setsockopt(fd, level, name, value: number | Buffer)
Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, level, name;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) || info.Length() < 4)
    return ThrowType(env, "setsockopt(fd, level, name, value: number | Buffer)");
  int rc;
  if (info[3].IsNumber()) {
    int v = info[3].As<Napi::Number>().Int32Value();
    rc = setsockopt(fd, level, name, &v, sizeof(v));
  } else if (info[3].IsBuffer()) {
    auto b = info[3].As<Napi::Buffer<uint8_t>>();
    rc = setsockopt(fd, level, name, b.Data(), static_cast<socklen_t>(b.Length()));
  } else {
    return ThrowType(env, "setsockopt: value must be a number or a Buffer");
  }
  if (rc < 0) return ThrowErrno(env, "setsockopt", errno);
  return env.Undefined();
}

// getsockoptInt(fd, level, name) -> number
Napi::Value GetSockOptInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, level, name;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name))
    return ThrowType(env, "getsockoptInt(fd, level, name)");
  int v = 0;
  socklen_t len = sizeof(v);
  if (getsockopt(fd, level, name, &v, &len) < 0) return ThrowErrno(env, "getsockopt", errno);
  return Napi::Number::New(env, v);
}

// getsockname(fd) -> Buffer (raw sockaddr)
Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd)) return ThrowType(env, "getsockname(fd)");
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return ThrowErrno(env, "getsockname", errno);
  if (len > sizeof(ss)) len = sizeof(ss);
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(&ss), len);
}

// close(fd)
Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd)) return ThrowType(env, "close(fd)");
  // Linux closes the fd even when close() returns EINTR; never retry.
  if (close(fd) < 0 && errno != EINTR) return ThrowErrno(env, "close", errno);
  return env.Undefined();
}

// ifNameToIndex(name) -> index (throws ENODEV if absent)
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(env, "ifNameToIndex(name: string)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) return ThrowErrno(env, "if_nametoindex", errno ? errno : ENODEV);
  return Napi::Number::New(env, idx);
}

// openTun(name, flags) -> { fd, name }; flags e.g. IFF_TUN|IFF_NO_PI. fd is O_NONBLOCK|O_CLOEXEC.
Napi::Value OpenTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int flags;
  if (info.Length() < 2 || !info[0].IsString() || !ArgInt(info, 1, &flags))
    return ThrowType(env, "openTun(name: string, flags: number)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.size() >= IFNAMSIZ) return ThrowErrno(env, "openTun", ENAMETOOLONG);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = static_cast<short>(flags);
  memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "ioctl TUNSETIFF", err);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("fd", Napi::Number::New(env, fd));
  r.Set("name", Napi::String::New(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ)));
  return r;
}

// --- serial lines (src/os/linux/serial.ts) and lab pseudo-terminals (src/lab/serial-relay.ts) ---

speed_t BaudToSpeed(int baud) {
  switch (baud) {
    case 1200: return B1200; case 2400: return B2400; case 4800: return B4800; case 9600: return B9600;
    case 19200: return B19200; case 38400: return B38400; case 57600: return B57600; case 115200: return B115200;
    case 230400: return B230400; case 460800: return B460800; case 500000: return B500000; case 576000: return B576000;
    case 921600: return B921600; case 1000000: return B1000000; case 1152000: return B1152000; case 1500000: return B1500000;
    case 2000000: return B2000000; case 2500000: return B2500000; case 3000000: return B3000000; case 3500000: return B3500000;
    case 4000000: return B4000000;
    default: return 0;
  }
}

// setSerial(fd, baud): raw 8N1, no flow control, no modem control (CLOCAL), receiver on; discards pending I/O.
// Once at open time: per-packet I/O is plain read/write on the non-blocking fd.
Napi::Value SetSerial(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, baud;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &baud)) return ThrowType(env, "setSerial(fd: number, baud: number)");
  speed_t sp = BaudToSpeed(baud);
  if (sp == 0) return ThrowErrno(env, "setSerial (unsupported baud rate)", EINVAL);
  struct termios t;
  if (tcgetattr(fd, &t) < 0) return ThrowErrno(env, "tcgetattr", errno);
  cfmakeraw(&t);
  t.c_cflag &= ~(CSTOPB | PARENB | CRTSCTS | CSIZE);
  t.c_cflag |= CS8 | CLOCAL | CREAD;
  t.c_iflag &= ~(IXON | IXOFF | IXANY);
  // VMIN 1: an empty non-blocking read is EAGAIN; with VMIN 0 it would return 0, which means hangup (EOF).
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (cfsetispeed(&t, sp) < 0 || cfsetospeed(&t, sp) < 0) return ThrowErrno(env, "cfsetspeed", errno);
  if (tcsetattr(fd, TCSANOW, &t) < 0) return ThrowErrno(env, "tcsetattr", errno);
  tcflush(fd, TCIOFLUSH);
  return env.Undefined();
}

// outq(fd) -> bytes still queued for output in the kernel (TIOCOUTQ); -1 if the driver cannot tell.
Napi::Value OutQ(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd)) return ThrowType(env, "outq(fd: number)");
  int n = 0;
  if (ioctl(fd, TIOCOUTQ, &n) < 0) return Napi::Number::New(env, -1);
  return Napi::Number::New(env, n);
}

// openPty() -> { master, slave }: a pseudo-terminal pair; the master fd is O_NONBLOCK|O_CLOEXEC, the slave side
// (path only, not opened here) is set raw so nothing is echoed or translated before a user opens it.
Napi::Value OpenPty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, "posix_openpt", errno);
  if (grantpt(fd) < 0 || unlockpt(fd) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "grantpt/unlockpt", err);
  }
  char name[128];
  if (ptsname_r(fd, name, sizeof(name)) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "ptsname_r", err);
  }
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    tcsetattr(fd, TCSANOW, &t);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("master", Napi::Number::New(env, fd));
  r.Set("slave", Napi::String::New(env, name));
  return r;
}

// tunSetCarrier(fd, on): the TUN device's carrier (TUNSETCARRIER, Linux >= 5.0), so that routes and the daemon
// see a private link whose line is gone as down at once.
Napi::Value TunSetCarrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsBoolean()) return ThrowType(env, "tunSetCarrier(fd: number, on: boolean)");
  int on = info[1].As<Napi::Boolean>().Value() ? 1 : 0;
  if (ioctl(fd, TUNSETCARRIER, &on) < 0) return ThrowErrno(env, "ioctl TUNSETCARRIER", errno);
  return env.Undefined();
}

// --- classic BPF socket filters (src/os/linux/ndp.ts) ---

// attachFilter(fd, program: Buffer of struct sock_filter[]): SO_ATTACH_FILTER. The kernel copies the program, so
// the buffer need not outlive the call. Lets an ETH_P_IPV6 packet socket take only Neighbor Advertisements instead
// of a copy of every IPv6 packet on the interface (sock_fprog holds a pointer, which JS cannot build).
Napi::Value AttachFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsBuffer())
    return ThrowType(env, "attachFilter(fd: number, program: Buffer)");
  auto prog = info[1].As<Napi::Buffer<uint8_t>>();
  if (prog.Length() == 0 || prog.Length() % sizeof(sock_filter) != 0 || prog.Length() / sizeof(sock_filter) > BPF_MAXINSNS)
    return ThrowErrno(env, "attachFilter (program size)", EINVAL);
  sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(prog.Length() / sizeof(sock_filter));
  fprog.filter = reinterpret_cast<sock_filter*>(prog.Data());
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0) return ThrowErrno(env, "setsockopt SO_ATTACH_FILTER", errno);
  return env.Undefined();
}

// Poller: uv_poll_t readiness watcher. new Poller(fd, events, cb(status, events)); stop(); ref(); unref().
// The JS object holds itself alive (Ref) while the poll is active; stop() closes the uv handle, whose
// memory is freed in the close callback (the handle may outlive the JS object).
class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Poller",
                       {InstanceMethod("stop", &Poller::Stop), InstanceMethod("ref", &Poller::RefLoop),
                        InstanceMethod("unref", &Poller::UnrefLoop)});
  }

  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    int fd, events;
    if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &events) || info.Length() < 3 || !info[2].IsFunction()) {
      ThrowType(env, "new Poller(fd, events, cb)");
      return;
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env, "uv loop unavailable").ThrowAsJavaScriptException();
      return;
    }
    handle_ = new uv_poll_t;
    int rc = uv_poll_init(loop, handle_, fd);
    if (rc < 0) {
      delete handle_;
      handle_ = nullptr;
      ThrowErrno(env, "uv_poll_init", -rc);
      return;
    }
    handle_->data = this;
    rc = uv_poll_start(handle_, events, &Poller::OnEvent);
    if (rc < 0) {
      handle_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(handle_), &Poller::OnClose);
      handle_ = nullptr;
      ThrowErrno(env, "uv_poll_start", -rc);
      return;
    }
    cb_ = Napi::Persistent(info[2].As<Napi::Function>());
    ctx_ = new Napi::AsyncContext(env, "hanet:poll");
    Ref();  // keep alive while active
  }

  ~Poller() override {
    Close();
    delete ctx_;
  }

 private:
  static void OnClose(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  static void OnEvent(uv_poll_t* h, int status, int events) {
    Poller* self = static_cast<Poller*>(h->data);
    if (self == nullptr || self->cb_.IsEmpty()) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // MakeCallback (not Call) so that promise continuations and nextTicks run right after the callback.
    self->cb_.MakeCallback(env.Global(), {Napi::Number::New(env, status), Napi::Number::New(env, events)},
                           *self->ctx_);
    if (env.IsExceptionPending()) {
      Napi::Error e = env.GetAndClearPendingException();
      napi_fatal_exception(env, e.Value());  // surfaces as 'uncaughtException', like any event callback
    }
  }

  bool Close() {
    if (handle_ == nullptr) return false;
    handle_->data = nullptr;
    uv_poll_stop(handle_);
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), &Poller::OnClose);
    handle_ = nullptr;
    return true;
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (Close()) {
      cb_.Reset();
      if (ctx_ != nullptr) {
        delete ctx_;
        ctx_ = nullptr;
      }
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  uv_poll_t* handle_ = nullptr;
  Napi::FunctionReference cb_;
  Napi::AsyncContext* ctx_ = nullptr;
};

// --- private-link sockets (src/links/peer-socket.ts) ---
// connect(fd, sockaddr: Buffer): a UDP socket connected to its peer only accepts the peer's datagrams (the kernel
// drops the rest before any user code runs). Throws with the errno name (e.g. ENETUNREACH while the socket's
// device is down: the caller retries).
Napi::Value Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, &fd) || info.Length() < 2 || !info[1].IsBuffer()) return ThrowType(env, "connect(fd, sockaddr: Buffer)");
  auto addr = info[1].As<Napi::Buffer<uint8_t>>();
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<const sockaddr*>(addr.Data()), static_cast<socklen_t>(addr.Length()));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return ThrowErrno(env, "connect", errno);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("bind", Napi::Function::New(env, Bind));
  exports.Set("sendto", Napi::Function::New(env, SendTo));
  exports.Set("recvfrom", Napi::Function::New(env, RecvFrom));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("write", Napi::Function::New(env, Write));
  exports.Set("setsockopt", Napi::Function::New(env, SetSockOpt));
  exports.Set("getsockoptInt", Napi::Function::New(env, GetSockOptInt));
  exports.Set("getsockname", Napi::Function::New(env, GetSockName));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex));
  exports.Set("openTun", Napi::Function::New(env, OpenTun));
  exports.Set("setSerial", Napi::Function::New(env, SetSerial));
  exports.Set("outq", Napi::Function::New(env, OutQ));
  exports.Set("openPty", Napi::Function::New(env, OpenPty));
  exports.Set("tunSetCarrier", Napi::Function::New(env, TunSetCarrier));
  exports.Set("attachFilter", Napi::Function::New(env, AttachFilter));
  exports.Set("connect", Napi::Function::New(env, Connect));
  exports.Set("Poller", Poller::Init(env));
  hanet_monitor::InitMonitor(env, exports);  // native/monitor.cc: Monitor, monotonicNowMs
  Napi::Object c = Napi::Object::New(env);
  c.Set("UV_READABLE", Napi::Number::New(env, UV_READABLE));
  c.Set("UV_WRITABLE", Napi::Number::New(env, UV_WRITABLE));
  c.Set("IFF_TUN", Napi::Number::New(env, IFF_TUN));
  c.Set("IFF_TAP", Napi::Number::New(env, IFF_TAP));
  c.Set("IFF_NO_PI", Napi::Number::New(env, IFF_NO_PI));
  exports.Set("constants", c);
  return exports;
}

}  // namespace

NODE_API_MODULE(hanet_native, Init)
