// Inside prepareData: what the image and tabular preparations share. Not
// part of the runtime's interface (see dataset.h for that).
#pragma once

#include <array>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/data/listing.h"
#include "runtime/data/splits.h"
#include "runtime/data/targets.h"
#include "runtime/values.h"
#include "stdlib/implementations.h"

namespace pipelang::runtime {

struct DataRequest {
    const Section* section = nullptr;
    std::filesystem::path baseDir;
    uint64_t seed = 0;
    const Value* input = nullptr;   // the input block's call
    const Value* target = nullptr;  // the target block's call
    const Value* x = nullptr;       // the `x` field, or null
    const Value* y = nullptr;       // `y`, else `label`, or null
    const Value* split = nullptr;
    std::optional<int64_t> fold;
    const Value* items = nullptr;    // `item`
    const Value* batches = nullptr;  // `batch`
    bool cache = true;

    std::string name() const { return section->name; }
};

// The separator of a multi_category target's labels; "" for targets that
// have one label per item (and no `delimiter`).
inline std::string labelDelimiter(const Value* target) {
    const Value* d =
        target && target->builtin && target->builtin->param("delimiter") ? argOf(target, "delimiter") : nullptr;
    return d ? d->text : std::string();
}

// Prints a line about the data to stderr: `note: data NAME: MESSAGE`.
void note(const DataRequest& request, const std::string& message);

// `on_bad = "skip"`: every file of the listing is read once by `read`, on
// all cores, and those it throws for are left out, counted and named in a
// note ("skipped 2 unreadable sound files of 40"); none left is an error.
Listing withoutUnreadable(const DataRequest& request, const Listing& listing, const std::string& what,
                          const std::function<void(const std::filesystem::path&)>& read);

// The items of a block whose items are files (sound, video): listed from
// the source (a folder, or a table whose `x = column(...)` holds paths),
// unreadable ones left out when the block says `on_bad = "skip"`, labelled
// (the parent folder by default) and assigned to splits. `what` names a
// file in messages ("sound file"), `folderHint` how to list such files.
struct LabelledFiles {
    Listing listing;
    std::vector<std::string> labels;
    std::vector<Side> sides;
};
LabelledFiles labelledFiles(const DataRequest& request, const std::string& what, const std::string& folderHint,
                            const std::function<void(const std::filesystem::path&)>& read);
// The same for a listing already made (images list first to tell idx apart).
LabelledFiles labelledFiles(const DataRequest& request, Listing listing, const std::string& what,
                            const std::string& folderHint,
                            const std::function<void(const std::filesystem::path&)>& read);

// The items with a target: those whose label is missing (empty, NA, ...) are
// dropped and counted on stderr. multi_category keeps empty labels (no class).
std::vector<int64_t> itemsWithTarget(const DataRequest& request, const std::vector<std::string>& labels);

// What a data block does in the runtime: an input block prepares the data
// (decoding, encoding, statistics) for the target it is paired with; a
// target block is encoded by that preparation (targets.h). `chars` and
// `tokens` are both, alone in a language model's `blocks`.
struct BlockMaker {
    std::unique_ptr<PreparedData> (*prepare)(const DataRequest& request) = nullptr;  // input blocks
    bool target = false;                                                             // target blocks
};
using BlockMakers = stdlib::Implementations<stdlib::Family::Block, BlockMaker>;

// Targets of the items at `positions` as the loss reads them.
torch::Tensor targetTensor(const Targets& targets, const std::vector<int64_t>& positions);
// Writes `json` text to `dir/name`, creating the folder.
void writeJson(const std::filesystem::path& dir, const std::string& name, const std::string& text);
// Writes `dir/classes.json`: the target kind and the classes, in their order.
void writeClasses(const std::filesystem::path& dir, const DataInfo& info);
// Writes `dir/items.csv` (split,position,row): the source row (0: the first)
// of each item of each split, so that validation predictions and
// cross-validation's out-of-fold table name rows of the source.
void writeItemRows(const std::filesystem::path& dir, const std::array<const std::vector<int64_t>*, 3>& sourceRows);

}  // namespace pipelang::runtime
