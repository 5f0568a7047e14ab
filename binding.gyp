{
  "targets": [
    {
      "target_name": "hanet_native",
      "sources": ["native/hanet_native.cc", "native/monitor.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "hanet_gap1ms",
      "type": "executable",
      "sources": ["native/gap1ms.c"],
      "cflags": ["-Wall", "-Wextra"],
      "libraries": ["-lpthread"]
    }
  ]
}
