// Where pretrained weights are found: beside the .pipe file, or in the cache
// PyTorch's torch.hub keeps its downloads in (torchvision's weights land
// there), so a file a user already has loads by its name.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pipelang::hub {

// $TORCH_HOME/hub/checkpoints, as torch.hub.get_dir() gives it: TORCH_HOME,
// else $XDG_CACHE_HOME/torch, else ~/.cache/torch.
std::filesystem::path torchCheckpoints();

// Where huggingface_hub keeps downloaded models: HF_HUB_CACHE, else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
std::filesystem::path huggingFaceHub();

// "org/name", as the Hub names repositories; a path to a weights file
// (`weights/resnet18.pth`) is not one, though the Hub would allow the name.
bool isRepoName(const std::string& text);

// Where huggingface_hub keeps the repository `org/name`:
// huggingFaceHub()/models--org--name, holding refs/main and snapshots/COMMIT/.
std::filesystem::path huggingFaceRepo(const std::string& repo);

// A torch.hub file name: NAME-HASH.EXT where HASH is the first 8 or more hex
// digits of the file's SHA-256 (torchvision's `resnet18-f37072fd.pth`).
// Returns HASH, or nothing for any other name.
std::optional<std::string> torchHubHash(const std::string& fileName);

// Where torchvision's files are downloaded from.
inline const char* const kTorchvisionUrl = "https://download.pytorch.org/models/";

struct FoundWeights {
    std::optional<std::filesystem::path> path;  // set when found
    std::vector<std::filesystem::path> looked;  // every place tried, in order
};

// `text` as written in `weights = "..."`: a path (relative to `baseDir`),
// else a bare file name looked up in torchCheckpoints(), else an `org/name`
// looked up in huggingFaceHub() at the snapshot its refs/main names (a model
// folder).
FoundWeights findWeights(const std::string& text, const std::filesystem::path& baseDir);

// The sentence for weights (or `what` else) not found: where it looked and how to get them.
std::string notFound(const std::string& text, const FoundWeights& found, const std::string& what = "weights");

}  // namespace pipelang::hub
