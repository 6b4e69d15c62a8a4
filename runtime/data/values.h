// Reading the checked pipeline's values in the data runtime: a call's
// arguments as plain C++ values. The checker has already enforced types and
// bounds, so these only convert (and fall back to a default when a value is
// `none`).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"

namespace pipelang::runtime {

// The built-in's name of a call (`"random"`), or "" for anything else.
std::string callName(const Value* v);
// A call's argument: none when it is absent or `none`.
const Value* argOf(const Value* call, std::string_view name);

double numberArg(const Value* call, std::string_view name, double fallback);
int64_t intArg(const Value* call, std::string_view name, int64_t fallback);
bool boolArg(const Value* call, std::string_view name, bool fallback);
std::string stringArg(const Value* call, std::string_view name, const std::string& fallback = "");
std::vector<std::string> stringsArg(const Value* call, std::string_view name);
std::vector<double> numbersArg(const Value* call, std::string_view name);
// A size given as a side or [height, width]: {0, 0} when absent.
std::pair<int, int> sizeArg(const Value* call, std::string_view name);

// The calls in a field that holds a call, a tuple or a list of calls.
std::vector<const Value*> calls(const Value* v);

// `path` made absolute against the .pipe file's folder.
std::filesystem::path resolvePath(const std::filesystem::path& baseDir, const std::string& path);

}  // namespace pipelang::runtime
