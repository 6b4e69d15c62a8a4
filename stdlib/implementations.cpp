#include "stdlib/implementations.h"

#include <cstdio>
#include <cstdlib>

namespace pipelang::stdlib {

namespace {
std::vector<std::pair<Family, std::string>>& all() {
    static std::vector<std::pair<Family, std::string>> entries;
    return entries;
}
}  // namespace

void noteImplemented(Family family, const std::string& name) {
    for (const auto& [f, n] : all())
        if (f == family && n == name) {
            std::fprintf(stderr, "pipe: internal error: %s `%s` implemented twice\n", familyName(family), name.c_str());
            std::abort();
        }
    all().emplace_back(family, name);
}

const std::vector<std::pair<Family, std::string>>& implemented() {
    return all();
}

}  // namespace pipelang::stdlib
