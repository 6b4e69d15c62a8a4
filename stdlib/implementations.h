// Where the code behind each built-in registers itself. The registry
// (registry.h) says what a built-in is — its signature, defaults and doc —
// and an implementation says how it runs. Each implementation file adds its
// maker beside its code, keyed by (family, name), as Caffe's layers do:
//
//   const BackboneMakers::Add kResnet{"resnet", makeResnet};
//
// so adding a built-in is its registry entry and one implementation file;
// no table or if-chain elsewhere names it. The maker's type is the family's
// own (runtime/makers.h for the runtime's families). A test walks the
// registry and every registered implementation and fails for either without
// the other, so `pipe check` never accepts what `pipe run` cannot do.
//
// Makers are registered during static initialisation, so the libraries
// holding them are linked whole (CMake object libraries), or an unreferenced
// implementation file would be left out by the linker.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stdlib/registry.h"

namespace pipelang::stdlib {

// Records that `name` of `family` has an implementation; a second
// implementation of the same built-in aborts (a programming error).
void noteImplemented(Family family, const std::string& name);
// Every (family, name) some linked code implements, in registration order.
const std::vector<std::pair<Family, std::string>>& implemented();

template <Family F, typename Maker>
class Implementations {
public:
    static constexpr Family family = F;

    // A static `Add` in an implementation file registers its maker.
    struct Add {
        Add(const char* name, Maker maker) {
            noteImplemented(F, name);
            table().emplace(name, std::move(maker));
        }
    };

    // The maker of `name`, or nullptr when no linked code implements it.
    static const Maker* find(std::string_view name) {
        auto it = table().find(name);
        return it == table().end() ? nullptr : &it->second;
    }

private:
    // A function-local table: makers register before main() in any order of
    // static initialisation.
    static std::map<std::string, Maker, std::less<>>& table() {
        static std::map<std::string, Maker, std::less<>> makers;
        return makers;
    }
};

}  // namespace pipelang::stdlib
