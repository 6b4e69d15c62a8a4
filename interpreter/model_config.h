// A Hugging Face model folder's config.json, read for the sizes of pipe's
// `transformer`: the checker writes them into the backbone's call (origin
// "from config.json") so that `pipe plan` shows them and a size written
// otherwise is an error before anything runs.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"

namespace pipelang {

struct ModelConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ModelConfig {
    // One argument of `transformer` the file fixes.
    struct Setting {
        std::string param;  // `dim`
        std::string key;    // `hidden_size`, for messages
        Value value;
    };
    std::string modelType;  // as the file says: bert, roberta, xlm-roberta, distilbert
    std::vector<Setting> settings;
};

// The model types whose parameter names the transformer backbone reads.
const std::vector<std::string>& supportedModelTypes();

// Reads `file` (a config.json). Throws ModelConfigError, one sentence naming
// the file, for a file that is not JSON, an architecture pipe does not build
// (naming it and the supported ones), or a size missing or of the wrong kind.
ModelConfig readModelConfig(const std::filesystem::path& file);

}  // namespace pipelang
