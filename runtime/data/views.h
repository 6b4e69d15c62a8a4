// How a data block's items look to a person: `pipe show` draws or lists a
// batch, `pipe interpret` names the items with the highest loss. Kept apart
// from PreparedData (dataset.h) so that each kind of data opts in by also
// deriving from ItemViews; a kind that does not cannot be shown yet, and
// says so. Text data plugs in by returning its decoded tokens as a field.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/data/image.h"

namespace pipelang::runtime {

// One item of a batch, as it went into the network but readable: an image
// with its normalisation undone (8-bit, as decoded and transformed), or named
// fields (tabular: column → value with codes and scaling undone; text:
// "text" → the decoded tokens).
struct ItemView {
    Image picture;  // empty unless the input is an image
    std::vector<std::pair<std::string, std::string>> fields;
};

class ItemViews {
public:
    virtual ~ItemViews() = default;
    // The item at `position` of `split` (Batch::index), for a person to find
    // it: its file, "item N of FILE" for IDX data, "FILE line N" for a table row
    // (as `pipe predict` names rows).
    virtual std::string itemName(Split split, int64_t position) const = 0;
    // Item `j` of a batch that this data's loader made.
    virtual ItemView view(const Batch& batch, int64_t j) const = 0;
};

// The views of `data`; throws RuntimeError naming the input kind when it has none.
const ItemViews& itemViews(const PreparedData& data);

// A target (one item's row of Batch::y) or a prediction in words: the class,
// the classes joined by ";" for multi_category, the number for a regression.
std::string targetText(const DataInfo& info, const torch::Tensor& y);

}  // namespace pipelang::runtime
