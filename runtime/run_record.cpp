#include "runtime/run_record.h"

#include <fcntl.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <toml.hpp>

#include "runtime/error.h"

#include "pipe_commit.h"  // generated at build time: PIPE_GIT_COMMIT

namespace pipelang::runtime {

namespace fs = std::filesystem;

namespace {

// Tables keep their keys sorted, so a record reads (and diffs) the same every time.
using Toml = toml::basic_value<toml::discard_comments, std::map, std::vector>;
using Table = Toml::table_type;
using Array = Toml::array_type;

std::string now() {
    std::time_t t = std::time(nullptr);
    char stamp[40];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&t));
    return stamp;
}

// The first line a shell command prints, or "" when it fails.
std::string firstLine(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>/dev/null").c_str(), "r"), pclose);
    if (!pipe) return "";
    char buffer[512];
    std::string out = std::fgets(buffer, sizeof buffer, pipe.get()) ? buffer : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// The files a data block reads: its source's `path` (and a `folder` of image
// files named by a table), every regular file under a folder, sorted.
std::vector<fs::path> dataFiles(const Section& data, const fs::path& baseDir) {
    std::vector<fs::path> files;
    const Value* source = data.field("source");
    if (!source || source->kind != Value::Kind::Call) return files;
    for (const char* arg : {"path", "folder"}) {
        const Value* v = source->arg(arg);
        if (!v || v->kind != Value::Kind::String) continue;
        fs::path p = v->text;
        if (p.is_relative()) p = baseDir / p;
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else if (fs::is_directory(p, ec)) {
            for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
                 it.increment(ec))
                if (it->is_regular_file(ec)) files.push_back(it->path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

const char* originText(Origin origin) {
    switch (origin) {
    case Origin::Written: return "file";
    case Origin::Default: return "default";
    case Origin::Derived: return "data";
    case Origin::Weights: return "weights";
    case Origin::ModelConfig: return "config.json";
    case Origin::Override: return "--set";
    }
    return "file";
}

// Every setting under its dotted path (`fit.optimizer.lr`), a call's own
// entry holding its whole text and each argument following beneath it.
void flatten(const std::string& key, const Value& value, Table& out) {
    out[key] = Table{{"value", value.str()}, {"origin", originText(value.origin)}};
    if (value.kind == Value::Kind::Call)
        for (size_t i = 0; i < value.items.size() && i < value.names.size(); ++i)
            flatten(key + "." + value.names[i], value.items[i], out);
}

}  // namespace

void writeFileAtomically(const fs::path& path, const std::string& text) {
    fs::path temporary = path;
    temporary += ".tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) throw RuntimeError("cannot write `" + path.string() + "`: " + std::strerror(errno));
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            int e = errno;
            ::close(fd);
            ::unlink(temporary.c_str());
            throw RuntimeError("cannot write `" + path.string() + "`: " + std::strerror(e));
        }
        done += size_t(n);
    }
    bool ok = ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(temporary.c_str());
        throw RuntimeError("cannot write `" + path.string() + "`: " + std::strerror(e));
    }
}

RunRecord::RunRecord(fs::path runDir, const Pipeline& pipeline, const fs::path& file,
                     const std::vector<std::string>& commandLine, uint64_t seed, int threads)
    : runDir_(std::move(runDir)),
      pipeline_(pipeline),
      file_(fs::absolute(file).lexically_normal()),
      commandLine_(commandLine),
      seed_(seed),
      threads_(threads),
      started_(now()) {
    for (const auto& section : pipeline.sections) {
        if (section.kind != "data") continue;
        std::vector<FilePrint> prints;
        for (const auto& f : dataFiles(section, file_.parent_path())) {
            std::error_code ec;
            prints.push_back({f.string(), sha256File(f), int64_t(fs::file_size(f, ec))});
        }
        data_.push_back({section.name, prints});
    }
}

void RunRecord::write(const std::string& status, const std::string& error) {
    Table run{{"name", runDir_.filename().string()},
              {"status", status},
              {"started", started_},
              {"seed", int64_t(seed_)},
              {"threads", threads_},
              {"device", device_},
              {"command", commandLine_}};
    if (status != "running") run["ended"] = now();
    if (!error.empty()) run["error"] = error;

    Table versions{{"pipe", PIPE_VERSION},
                   {"pipe_commit", PIPE_GIT_COMMIT},
                   {"libtorch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                                    std::to_string(TORCH_VERSION_PATCH)},
                   {"sentencepiece", PIPE_SENTENCEPIECE_VERSION},
                   {"compiler", std::string("gcc ") + __VERSION__}};

    std::string dir = quoted(file_.parent_path().string());
    std::string commit = firstLine("git -C " + dir + " rev-parse HEAD");
    Table source{{"path", file_.string()}, {"sha256", sha256File(runDir_ / "source.pipe")}};
    if (commit.empty()) {
        source["git"] = "not in a git repository";
    } else {
        source["git_commit"] = commit;
        source["git_modified"] =
            !firstLine("git -C " + dir + " status --porcelain -- " + quoted(file_.filename().string())).empty();
    }

    Table data;
    for (const auto& [name, files] : data_) {
        Array list;
        for (const auto& f : files) list.push_back(Table{{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
        data[name] = Table{{"files", list}};
    }

    Table settings;
    settings["seed"] = Table{{"value", std::to_string(seed_)}, {"origin", originText(pipeline_.seedOrigin)}};
    for (const auto& section : pipeline_.sections)
        for (const auto& [field, value] : section.fields) flatten(section.name + "." + field, value, settings);
    for (const auto& [key, origin] : origins_)
        if (settings.count(key)) settings[key].as_table()["origin"] = origin;

    Table project{{"file", projectFile_.empty() ? std::string("none") : projectFile_}};
    for (const auto& v : project_) {
        Toml value = v.list ? Toml(Array(v.values.begin(), v.values.end())) : Toml(v.values.empty() ? "" : v.values[0]);
        project[v.key] = Table{{"value", value}, {"origin", v.origin}};
    }

    Table stages;
    for (const auto& stage : stages_) {
        Table metrics;
        for (const auto& [name, value] : stage.metrics) metrics[name] = value;
        Table entry{{"metrics", metrics}};
        if (!stage.weightsSha256.empty()) entry["weights_sha256"] = stage.weightsSha256;
        if (stage.epochs > 0) entry["epochs"] = stage.epochs;
        stages[stage.name] = entry;
    }

    Toml record(Table{{"run", run},
                      {"versions", versions},
                      {"source", source},
                      {"data", data},
                      {"stages", stages},
                      {"project", project},
                      {"settings", settings}});
    writeFileAtomically(runDir_ / "record.toml", toml::format(record, 100));
}

}  // namespace pipelang::runtime
