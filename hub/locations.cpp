#include "hub/locations.h"

#include <cstdlib>
#include <regex>

namespace pipelang::hub {

namespace fs = std::filesystem;

namespace {

std::optional<fs::path> env(const char* name) {
    const char* value = std::getenv(name);
    if (!value || !*value) return std::nullopt;
    return fs::path(value);
}

}  // namespace

fs::path torchCheckpoints() {
    if (auto home = env("TORCH_HOME")) return *home / "hub" / "checkpoints";
    if (auto cache = env("XDG_CACHE_HOME")) return *cache / "torch" / "hub" / "checkpoints";
    return env("HOME").value_or("/root") / ".cache" / "torch" / "hub" / "checkpoints";
}

std::optional<std::string> torchHubHash(const std::string& fileName) {
    // torch.hub's own rule (HASH_REGEX): the digits after the last '-' before the extension.
    static const std::regex pattern(R"(^[A-Za-z0-9_.]+-([0-9a-f]{8,64})\.[A-Za-z0-9]+$)");
    std::smatch m;
    if (!std::regex_match(fileName, m, pattern)) return std::nullopt;
    return m[1].str();
}

FoundWeights findWeights(const std::string& text, const fs::path& baseDir) {
    FoundWeights found;
    fs::path given(text);
    fs::path local = given.is_absolute() ? given : baseDir / given;
    found.looked.push_back(local);
    std::error_code error;
    if (fs::exists(local, error)) {
        found.path = local;
        return found;
    }
    // A bare name (no folder in it) may be a download PyTorch keeps.
    if (!given.is_absolute() && !given.has_parent_path()) {
        fs::path cached = torchCheckpoints() / given;
        found.looked.push_back(cached);
        if (fs::exists(cached, error)) found.path = cached;
    }
    return found;
}

std::string notFound(const std::string& text, const FoundWeights& found) {
    std::string message = "weights `" + text + "` not found: looked at ";
    for (size_t i = 0; i < found.looked.size(); ++i)
        message += (i ? (i + 1 == found.looked.size() ? " and " : ", ") : "") + ("`" + found.looked[i].string() + "`");
    if (torchHubHash(text) && found.looked.size() > 1) return message + "; download it with `pipe fetch " + text + "`";
    return message + "; check the path (relative paths start at the .pipe file's folder)";
}

}  // namespace pipelang::hub
