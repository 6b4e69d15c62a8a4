#include "runtime/weights/weights_file.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/weights/torch_save.h"

namespace pipelang::runtime {

namespace {

namespace fs = std::filesystem;

// A Hugging Face model folder: one weights file, or shards that an index names.
NamedTensors readModelFolder(const fs::path& dir) {
    std::error_code ec;
    for (const char* name : {"model.safetensors", "pytorch_model.bin"})
        if (fs::exists(dir / name, ec)) return readWeights(dir / name);
    for (const char* name : {"model.safetensors.index.json", "pytorch_model.bin.index.json"}) {
        if (!fs::exists(dir / name, ec)) continue;
        nlohmann::json index;
        try {
            index = nlohmann::json::parse(std::ifstream(dir / name));
        } catch (const nlohmann::json::exception& e) {
            throw RuntimeError("`" + (dir / name).string() + "` is not JSON: " + e.what());
        }
        const auto map = index.find("weight_map");
        if (map == index.end() || !map->is_object())
            throw RuntimeError("`" + (dir / name).string() + "` has no weight_map: not a sharded model's index");
        std::vector<std::string> shards;  // in the order the index first names them
        for (const auto& [_, file] : map->items()) {
            if (!file.is_string())
                throw RuntimeError("`" + (dir / name).string() + "` names a shard that is not a string");
            std::string shard = file.get<std::string>();
            if (shard.find('/') != std::string::npos || shard.starts_with("."))
                throw RuntimeError("`" + (dir / name).string() + "` names a shard outside its folder: `" + shard + "`");
            if (std::find(shards.begin(), shards.end(), shard) == shards.end()) shards.push_back(shard);
        }
        NamedTensors all;
        for (const auto& shard : shards) {
            NamedTensors part = readWeights(dir / shard);
            all.tensors.insert(all.tensors.end(), part.tensors.begin(), part.tensors.end());
        }
        return all;
    }
    throw RuntimeError("`" + dir.string() +
                       "` is a folder without model.safetensors, pytorch_model.bin or a sharded model's index");
}

}  // namespace

NamedTensors readWeights(const std::filesystem::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return readModelFolder(path);
    return looksLikeTorchSave(path) ? readTorchSave(path) : readSafetensors(path);
}

}  // namespace pipelang::runtime
