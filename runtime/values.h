// Reading the checked pipeline's values in the runtime: a call's arguments
// as plain C++ values. The front end has resolved every call — types and
// bounds enforced, every default of the registry filled in — so these only
// convert; the runtime holds no default of its own. An argument whose
// default is `none` and that was not written reads as empty (0, "", false,
// {}); any other missing argument is an internal error.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/pipeline.h"

namespace pipelang::runtime {

// The built-in's name of a call (`"random"`), or "" for anything else.
std::string callName(const Value* v);
// A call's argument: null when it is absent or `none`.
const Value* argOf(const Value* call, std::string_view name);

double numberArg(const Value* call, std::string_view name);
int64_t intArg(const Value* call, std::string_view name);
bool boolArg(const Value* call, std::string_view name);
std::string stringArg(const Value* call, std::string_view name);
std::vector<std::string> stringsArg(const Value* call, std::string_view name);
std::vector<double> numbersArg(const Value* call, std::string_view name);
std::vector<int64_t> intsArg(const Value* call, std::string_view name);
// A size given as a side or [height, width]: {0, 0} when `none`.
std::pair<int, int> sizeArg(const Value* call, std::string_view name);

inline double numberArg(const Value& call, std::string_view name) {
    return numberArg(&call, name);
}
inline int64_t intArg(const Value& call, std::string_view name) {
    return intArg(&call, name);
}
inline bool boolArg(const Value& call, std::string_view name) {
    return boolArg(&call, name);
}
inline std::string stringArg(const Value& call, std::string_view name) {
    return stringArg(&call, name);
}
inline std::vector<int64_t> intsArg(const Value& call, std::string_view name) {
    return intsArg(&call, name);
}
inline std::vector<double> numbersArg(const Value& call, std::string_view name) {
    return numbersArg(&call, name);
}

// A field of a section (`batch_size` of a data block), as resolved.
const Value& fieldOf(const Section& section, std::string_view name);

// The calls in a field that holds a call, a tuple or a list of calls.
std::vector<const Value*> calls(const Value* v);

// `path` made absolute against the .pipe file's folder.
std::filesystem::path resolvePath(const std::filesystem::path& baseDir, const std::string& path);

}  // namespace pipelang::runtime
