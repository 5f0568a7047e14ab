// hanet link monitor (native/monitor.cc): registers its exports (the Monitor class, monotonicNowMs) on the addon.
#pragma once
#include <napi.h>

namespace hanet_monitor {
void InitMonitor(Napi::Env env, Napi::Object exports);
}
