// Downloading a model from the Hugging Face Hub into huggingface_hub's own
// cache layout (models--org--name/snapshots/COMMIT/, refs/main), so that
// `weights = "org/name"` and `load = "org/name"` find it, and so does
// transformers. Only what pipe reads is fetched: config.json, the tokenizer's
// files, and one format of weights (safetensors before pytorch_model.bin,
// shards by their index). refs/main is written last: an interrupted fetch is
// not a model the cache seems to hold, and running it again resumes.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace pipelang::hub {

// Where the Hub answers: $HF_ENDPOINT, as huggingface_hub reads it, else huggingface.co.
std::string huggingFaceEndpoint();

struct HubFetch {
    std::string repo;      // org/name
    std::string endpoint;  // e.g. https://huggingface.co
    std::string revision = "main";
    // (file, bytes so far, total or 0) as each file arrives.
    std::function<void(const std::string&, uint64_t, uint64_t)> progress;
};

struct HubFetched {
    std::filesystem::path snapshot;
    std::string commit;
    std::vector<std::string> files;  // fetched now, in order
    std::vector<std::string> had;    // already in the snapshot
    uint64_t bytes = 0;
};

// The files of a repository pipe reads, from the names the Hub lists.
// Throws std::runtime_error when it lists no weights pipe reads.
std::vector<std::string> filesToFetch(const std::vector<std::string>& listed, const std::string& repo);

// Throws std::runtime_error with one sentence (which file, what the server
// said, what to do); files already fetched stay for the next try.
HubFetched fetchFromHub(const HubFetch& request);

}  // namespace pipelang::hub
