// libFuzzer target: a safetensors file's header as readSafetensors checks it
// (runtime/weights/safetensors_header.cpp), the input being the whole file. A bad
// file is one RuntimeError; a header it accepts must describe tensors whose
// bytes lie in the file, match their dtype and shape, and share no byte.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "runtime/error.h"
#include "runtime/weights/safetensors_header.h"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_safetensors: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace pipelang::runtime;
    try {
        unsigned char length[8] = {};
        if (size >= 8) std::memcpy(length, data, 8);
        uint64_t headerSize = safetensorsHeaderSize("fuzz.safetensors", length, size);
        if (headerSize > size - 8) fail("a header longer than the file");
        std::string_view text(reinterpret_cast<const char*>(data) + 8, headerSize);
        uint64_t dataSize = size - 8 - headerSize;
        SafetensorsHeader header = parseSafetensorsHeader("fuzz.safetensors", text, dataSize);
        uint64_t end = 0, begin = 0;
        for (const auto& e : header.entries) {
            if (e.begin > e.end || e.end > dataSize) fail("a tensor's bytes outside the data");
            if (e.begin < begin) fail("tensors out of the data's order");
            begin = e.begin;
            if (e.end > e.begin) {
                if (e.begin < end) fail("two tensors share bytes");
                end = e.end;
            }
            uint64_t numel = 1;
            for (int64_t n : e.shape) {
                if (n < 0) fail("a negative size");
                numel *= uint64_t(n);
            }
            if (numel * e.dtype->bytes != e.end - e.begin) fail("a tensor's bytes do not match its shape");
        }
    } catch (const RuntimeError&) {}
    return 0;
}
