// What a source lists before anything is decoded: the items' files and, for
// table sources, their rows. Labels, splits and inputs are read from it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/table.h"
#include "stdlib/implementations.h"

namespace pipelang::runtime {

struct Listing {
    std::string source;                        // "folder", "csv", ... for messages
    std::filesystem::path root;                // the folder or file the source names
    std::vector<std::filesystem::path> paths;  // per item: its file, when items are files
    std::shared_ptr<const Table> table;        // per item: its row, for table sources
    int64_t count = 0;                         // the number of items when there are neither (idx)
    bool inMemory = false;                     // idx: the images are in the source's own files, read by the block

    int64_t size() const { return table ? table->size() : paths.empty() ? count : int64_t(paths.size()); }
    bool hasPaths() const { return !paths.empty(); }
};

// Every file under `root` with one of `extensions` (case-insensitive), in
// sorted order of their paths, so listings are the same on every machine.
std::vector<std::filesystem::path> scanFolder(const std::filesystem::path& root,
                                              const std::vector<std::string>& extensions, bool recurse);

// Lists a source (relative paths against `baseDir`) with the maker its
// built-in registered. Throws RuntimeError for a missing path or an empty listing.
Listing listSource(const Value& source, const std::filesystem::path& baseDir);

// A source's maker fills in the listing whose `source` and `root` (the
// resolved `path`) are set.
using SourceMaker = void (*)(const Value& source, Listing& listing);
using SourceMakers = stdlib::Implementations<stdlib::Family::Source, SourceMaker>;

// The listing of the items at `keep`, in that order.
Listing subset(const Listing& listing, const std::vector<int64_t>& keep);

// Makes the table's column `column` the items' file paths, relative to
// `folder` (the csv source's `folder`, or the table file's own folder).
void attachPaths(Listing& listing, const std::string& column, const std::filesystem::path& folder);

}  // namespace pipelang::runtime
