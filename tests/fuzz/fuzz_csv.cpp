// libFuzzer target: the CSV reader of the data sources (runtime/data/table.cpp),
// with each delimiter and with and without a header. A bad file is one
// RuntimeError; a table it returns is rectangular, as the loaders assume.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/data/table.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace pipelang::runtime;
    std::string text(reinterpret_cast<const char*>(data), size);
    for (char delimiter : {',', ';', '\t'})
        for (bool header : {true, false}) {
            try {
                Table table = parseCsv(text, "fuzz.csv", delimiter, header);
                if (table.rows.size() != table.lines.size()) std::abort();
                for (const auto& row : table.rows)
                    if (row.size() != table.columns.size()) {
                        std::fprintf(stderr, "a row of %zu cells under %zu columns\n", row.size(),
                                     table.columns.size());
                        std::abort();
                    }
                for (const auto& row : table.rows)
                    for (const auto& cell : row) {
                        isMissing(cell);
                        parseNumber(cell);
                    }
            } catch (const RuntimeError&) {}
        }
    return 0;
}
