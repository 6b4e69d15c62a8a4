#include "hub/locations.h"

#include <cstdlib>
#include <fstream>
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

fs::path huggingFaceHub() {
    if (auto hub = env("HF_HUB_CACHE")) return *hub;
    if (auto home = env("HF_HOME")) return *home / "hub";
    if (auto cache = env("XDG_CACHE_HOME")) return *cache / "huggingface" / "hub";
    return env("HOME").value_or("/root") / ".cache" / "huggingface" / "hub";
}

bool isRepoName(const std::string& text) {
    static const std::regex pattern(R"(^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$)");
    static const std::regex file(R"(\.(pth|pt|bin|safetensors|ckpt|json|model)$)");
    return std::regex_match(text, pattern) && !std::regex_search(text, file) && text.find("..") == std::string::npos;
}

fs::path huggingFaceRepo(const std::string& repo) {
    std::string folder = "models--" + repo;
    for (size_t at; (at = folder.find('/')) != std::string::npos;) folder.replace(at, 1, "--");
    return huggingFaceHub() / folder;
}

namespace {

// models--ORG--NAME/snapshots/<refs/main>, or nothing.
std::optional<fs::path> huggingFaceSnapshot(const std::string& repo, std::vector<fs::path>& looked) {
    fs::path root = huggingFaceRepo(repo);
    std::ifstream ref(root / "refs" / "main");
    std::string commit;
    std::getline(ref, commit);
    fs::path snapshot = root / "snapshots" / (commit.empty() ? "<refs/main>" : commit);
    looked.push_back(snapshot);
    std::error_code error;
    if (commit.empty() || commit.find('/') != std::string::npos || !fs::is_directory(snapshot, error))
        return std::nullopt;
    return snapshot;
}

}  // namespace

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
        if (fs::exists(cached, error)) {
            found.path = cached;
            return found;
        }
    }
    if (isRepoName(text)) found.path = huggingFaceSnapshot(text, found.looked);
    return found;
}

std::string notFound(const std::string& text, const FoundWeights& found, const std::string& what) {
    std::string message = what + " `" + text + "` not found: looked at ";
    for (size_t i = 0; i < found.looked.size(); ++i)
        message += (i ? (i + 1 == found.looked.size() ? " and " : ", ") : "") + ("`" + found.looked[i].string() + "`");
    if (torchHubHash(text) && found.looked.size() > 1) return message + "; download it with `pipe fetch " + text + "`";
    if (found.looked.size() > 1 && isRepoName(text))
        return message + "; download the model with `pipe fetch " + text +
               "` (or Hugging Face's `huggingface-cli download " + text + "`)";
    return message + "; check the path (relative paths start at the .pipe file's folder)";
}

}  // namespace pipelang::hub
