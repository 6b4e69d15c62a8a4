// The commands of the `pipe` executable: one file each, listed in main.cpp.
#pragma once

#include <string>
#include <vector>

#include "interpreter/diagnostic.h"

namespace pipelang::cli {

struct Command {
    const char* name;
    const char* synopsis;                              // one line for `pipe --help`
    int (*run)(const std::vector<std::string>& args);  // args after the command name; null: handed to pipe-runtime
};

// Exit codes, as DESIGN.md §3 gives them.
constexpr int kOk = 0;
constexpr int kFailed = 1;    // the pipeline failed while running; `fmt --check` found changes
constexpr int kBadInput = 2;  // bad usage, or a file that does not check

int run(const std::vector<std::string>& args);  // a sweep here, the rest handed over
int check(const std::vector<std::string>& args);
int fmt(const std::vector<std::string>& args);
int plan(const std::vector<std::string>& args);
int graph(const std::vector<std::string>& args);
int doc(const std::vector<std::string>& args);
int lsp(const std::vector<std::string>& args);
int plot(const std::vector<std::string>& args);
int compare(const std::vector<std::string>& args);
int cv(const std::vector<std::string>& args);
int fetch(const std::vector<std::string>& args);
int status(const std::vector<std::string>& args);

// Prints diagnostics to stderr, in colour on a terminal unless NO_COLOR is set.
void printDiagnostics(const pipelang::Diagnostics& diags);

}  // namespace pipelang::cli
