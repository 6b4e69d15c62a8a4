// Label getters: `parent_label`, `filename` and `regex` read an item's file
// path; `column` reads a table cell.
#pragma once

#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/listing.h"

namespace pipelang::runtime {

// One label per item. Throws RuntimeError when the getter does not fit the
// source (a path getter on rows without paths, a column that is not there)
// or a regex does not match an item.
std::vector<std::string> readLabels(const Value& getter, const Listing& listing);

}  // namespace pipelang::runtime
