// libFuzzer target: the json and jsonl sources' readers (runtime/data/table.cpp).
// A bad file is one RuntimeError; a table they return is rectangular.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/data/table.h"
#include "runtime/error.h"

namespace {

void checkTable(const pipelang::runtime::Table& table) {
    if (table.rows.size() != table.lines.size()) std::abort();
    for (const auto& row : table.rows)
        if (row.size() != table.columns.size()) {
            std::fprintf(stderr, "a row of %zu cells under %zu columns\n", row.size(), table.columns.size());
            std::abort();
        }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace pipelang::runtime;
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        checkTable(parseJsonArray(text, "fuzz.json"));
    } catch (const RuntimeError&) {}
    try {
        checkTable(parseJsonLines(text, "fuzz.jsonl"));
    } catch (const RuntimeError&) {}
    return 0;
}
