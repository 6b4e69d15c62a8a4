#include "runtime/data/listing.h"

#include <algorithm>
#include <cctype>

#include "runtime/data/text_sources.h"
#include "runtime/error.h"
#include "runtime/makers.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

}  // namespace

std::vector<std::filesystem::path> scanFolder(const std::filesystem::path& root,
                                              const std::vector<std::string>& extensions, bool recurse) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(root))
        throw RuntimeError("folder source: `" + root.string() + "` is not a folder; fix the source's `path`.");
    std::vector<std::string> wanted;
    for (const auto& e : extensions) wanted.push_back(lower(e.empty() || e[0] == '.' ? e : "." + e));
    auto keep = [&](const fs::path& p) {
        std::string ext = lower(p.extension().string());
        return std::find(wanted.begin(), wanted.end(), ext) != wanted.end();
    };
    std::vector<fs::path> out;
    std::error_code error;
    auto options = fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied;
    if (recurse) {
        for (fs::recursive_directory_iterator it(root, options, error), end; !error && it != end; it.increment(error))
            if (it->is_regular_file(error) && keep(it->path())) out.push_back(it->path());
    } else {
        for (fs::directory_iterator it(root, options, error), end; !error && it != end; it.increment(error))
            if (it->is_regular_file(error) && keep(it->path())) out.push_back(it->path());
    }
    if (error)
        throw RuntimeError("folder source: cannot list `" + root.string() + "` (" + error.message() +
                           "); check its permissions.");
    std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return a.native() < b.native(); });
    return out;
}

namespace {

void listFolder(const Value& source, Listing& listing) {
    auto extensions = stringsArg(&source, "extensions");
    listing.paths = scanFolder(listing.root, extensions, boolArg(&source, "recurse"));
    if (listing.paths.empty()) {
        std::string list;
        for (const auto& e : extensions) list += (list.empty() ? "" : ", ") + e;
        throw RuntimeError("folder source: no files with the extensions " + list + " under `" + listing.root.string() +
                           "`; check the `path` and `extensions`.");
    }
}
const SourceMakers::Add kFolder{"folder", listFolder};

// Table sources: one item per row.
template <Table (*read)(const Value&, const std::filesystem::path&)>
void listTable(const Value& source, Listing& listing) {
    auto table = std::make_shared<Table>(read(source, listing.root));
    if (table->rows.empty())
        throw RuntimeError(source.text + " source: `" + listing.root.string() +
                           "` has no rows; it needs at least one item.");
    listing.table = std::move(table);
}

Table csvTable(const Value& source, const std::filesystem::path& root) {
    std::string delimiter = stringArg(&source, "delimiter");
    if (delimiter.size() != 1)
        throw RuntimeError("csv source: the delimiter must be one character, not `" + delimiter + "`.");
    return readCsv(root, delimiter[0], boolArg(&source, "header"));
}
const SourceMakers::Add kCsv{"csv", listTable<csvTable>};
Table jsonlTable(const Value&, const std::filesystem::path& root) {
    return readJsonLines(root);
}
Table jsonTable(const Value&, const std::filesystem::path& root) {
    return readJsonArray(root);
}
Table linesTable(const Value&, const std::filesystem::path& root) {
    return readLines(root);
}
Table fortunesTable(const Value& source, const std::filesystem::path& root) {
    return readFortunes(root, stringsArg(&source, "files"), stringArg(&source, "by"));
}
const SourceMakers::Add kJsonl{"jsonl", listTable<jsonlTable>};
const SourceMakers::Add kJson{"json", listTable<jsonTable>};
const SourceMakers::Add kLines{"lines", listTable<linesTable>};
const SourceMakers::Add kFortunes{"fortunes", listTable<fortunesTable>};

}  // namespace

Listing listSource(const Value& source, const std::filesystem::path& baseDir) {
    Listing listing;
    listing.source = source.text;
    listing.root = resolvePath(baseDir, stringArg(&source, "path"));
    makerOf<SourceMakers>(source)(source, listing);
    return listing;
}

Listing subset(const Listing& listing, const std::vector<int64_t>& keep) {
    Listing out;
    out.source = listing.source;
    out.root = listing.root;
    out.count = int64_t(keep.size());
    if (listing.hasPaths())
        for (int64_t i : keep) out.paths.push_back(listing.paths[size_t(i)]);
    if (listing.table) {
        auto table = std::make_shared<Table>();
        table->name = listing.table->name;
        table->columns = listing.table->columns;
        for (int64_t i : keep) {
            table->rows.push_back(listing.table->rows[size_t(i)]);
            table->lines.push_back(listing.table->lines[size_t(i)]);
        }
        out.table = std::move(table);
    }
    return out;
}

void attachPaths(Listing& listing, const std::string& column, const std::filesystem::path& folder) {
    const Table& table = *listing.table;
    size_t index = table.require(column, "the image paths");
    listing.paths.clear();
    listing.paths.reserve(size_t(table.size()));
    for (int64_t r = 0; r < table.size(); ++r) {
        const std::string& cell = table.cell(r, index);
        if (cell.empty())
            throw RuntimeError("`" + table.name + "` line " + std::to_string(table.lines[size_t(r)]) +
                               " has no file in column `" + column + "`; fill it in or remove the row.");
        listing.paths.push_back(resolvePath(folder, cell));
    }
}

}  // namespace pipelang::runtime
