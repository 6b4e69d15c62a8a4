#include "record/project.h"

#include <toml.hpp>

namespace pipelang::record {

namespace fs = std::filesystem;

namespace {

// `pipe.toml:3: ` for an error about the value on line 3.
std::string where(const fs::path& file, const toml::value& v) {
    return file.string() + ":" + std::to_string(v.location().line()) + ": ";
}

std::string typeName(const toml::value& v) {
    switch (v.type()) {
    case toml::value_t::boolean: return "a boolean";
    case toml::value_t::integer: return "an integer";
    case toml::value_t::floating: return "a number";
    case toml::value_t::string: return "a string";
    case toml::value_t::array: return "a list";
    case toml::value_t::table: return "a table";
    default: return "a date or time";
    }
}

const std::string& expectString(const fs::path& file, const std::string& key, const toml::value& v) {
    if (!v.is_string())
        throw RecordError(where(file, v) + "`" + key + "` takes a string in quotes, not " + typeName(v));
    return v.as_string().str;
}

// A path in pipe.toml is relative to pipe.toml's folder.
fs::path projectPath(const fs::path& file, const std::string& text) {
    fs::path p = text;
    return (p.is_relative() ? fs::absolute(file).parent_path() / p : p).lexically_normal();
}

}  // namespace

fs::path findProjectFile(const fs::path& pipeFile) {
    std::error_code ec;
    fs::path dir = fs::absolute(pipeFile, ec).parent_path();
    while (!dir.empty()) {
        if (fs::is_regular_file(dir / "pipe.toml", ec)) return dir / "pipe.toml";
        if (fs::exists(dir / ".git", ec) || dir == dir.root_path()) break;  // a git root, or the top
        dir = dir.parent_path();
    }
    return {};
}

namespace {

// [slurm]: the defaults of `pipe run --slurm`.
void readSlurmTable(const fs::path& file, const toml::value& table, Project::Slurm& slurm) {
    if (!table.is_table())
        throw RecordError(where(file, table) + "`slurm` is a table: write it as [slurm] with its keys below");
    auto count = [&](const std::string& key, const toml::value& v, int least) {
        if (!v.is_integer() || v.as_integer() < least || v.as_integer() > 1000000)
            throw RecordError(where(file, v) + "`slurm." + key + "` takes a whole number of at least " +
                              std::to_string(least) + ", not " +
                              (v.is_integer() ? std::to_string(v.as_integer()) : typeName(v)));
        return int(v.as_integer());
    };
    for (const auto& [key, v] : table.as_table()) {
        if (key == "partition")
            slurm.partition = expectString(file, "slurm.partition", v);
        else if (key == "time")
            slurm.time = expectString(file, "slurm.time", v);
        else if (key == "account")
            slurm.account = expectString(file, "slurm.account", v);
        else if (key == "nodes")
            slurm.nodes = count(key, v, 1);
        else if (key == "tasks_per_node")
            slurm.tasksPerNode = count(key, v, 1);
        else if (key == "gpus_per_node")
            slurm.gpusPerNode = count(key, v, 0);
        else if (key == "cpus_per_task")
            slurm.cpusPerTask = count(key, v, 1);
        else if (key == "max_parallel")
            slurm.maxParallel = count(key, v, 1);
        else if (key == "signal_seconds")
            slurm.signalSeconds = count(key, v, 1);
        else
            throw RecordError(where(file, v) + "unknown key `slurm." + key +
                              "`; [slurm] takes `partition`, `time`, `account`, `nodes`, `tasks_per_node`, "
                              "`gpus_per_node`, `cpus_per_task`, `max_parallel` and `signal_seconds`");
    }
}
}  // namespace

Project readProject(const fs::path& tomlFile) {
    Project project;
    project.file = fs::absolute(tomlFile).lexically_normal();
    toml::value root;
    try {
        root = toml::parse(tomlFile.string());
    } catch (const std::exception& e) {
        throw RecordError(tomlFile.string() + ": not valid TOML:\n" + std::string(e.what()));
    }
    for (const auto& [key, v] : root.as_table()) {
        if (key == "runs") {
            project.runs = projectPath(tomlFile, expectString(tomlFile, key, v));
        } else if (key == "device") {
            const std::string& device = expectString(tomlFile, key, v);
            if (device != "cpu" && device != "cuda" && device != "auto")
                throw RecordError(where(tomlFile, v) + "`device` is \"" + device +
                                  "\"; use \"cpu\", \"cuda\" or \"auto\"");
            project.device = device;
        } else if (key == "threads") {
            if (!v.is_integer())
                throw RecordError(where(tomlFile, v) + "`threads` takes a whole number, not " + typeName(v));
            if (v.as_integer() < 1 || v.as_integer() > 4096)
                throw RecordError(where(tomlFile, v) + "`threads` is " + std::to_string(v.as_integer()) +
                                  "; give at least 1");
            project.threads = int(v.as_integer());
        } else if (key == "data_roots") {
            if (!v.is_array())
                throw RecordError(where(tomlFile, v) + "`data_roots` takes a list of folders, e.g. [\"data\"], not " +
                                  typeName(v));
            for (const auto& item : v.as_array())
                project.dataRoots.push_back(projectPath(tomlFile, expectString(tomlFile, "data_roots", item)));
        } else if (key == "slurm") {
            readSlurmTable(tomlFile, v, project.slurm);
        } else {
            throw RecordError(where(tomlFile, v) + "unknown key `" + key +
                              "`; pipe.toml takes `runs`, `device`, `threads`, `data_roots` and a [slurm] table");
        }
    }
    return project;
}

Project projectFor(const fs::path& pipeFile) {
    fs::path file = findProjectFile(pipeFile);
    return file.empty() ? Project{} : readProject(file);
}

std::optional<fs::path> findUnderDataRoots(const std::string& path, const fs::path& baseDir,
                                           const std::vector<fs::path>& roots) {
    fs::path p = path;
    std::error_code ec;
    if (p.empty() || p.is_absolute() || fs::exists(baseDir / p, ec)) return std::nullopt;
    for (const auto& root : roots)
        if (fs::exists(root / p, ec)) return (root / p).lexically_normal();
    return std::nullopt;
}

int recordedThreads(const fs::path& recordToml) {
    std::error_code ec;
    if (!fs::is_regular_file(recordToml, ec)) return 0;
    try {
        toml::value record = toml::parse(recordToml.string());
        // (toml11's find_or with several keys hands back a dangling reference.)
        if (!record.contains("run") || !toml::find(record, "run").contains("threads")) return 0;
        return int(toml::find<int64_t>(record, "run", "threads"));
    } catch (const std::exception& e) {
        std::string message = e.what();
        throw RecordError(recordToml.string() + ": it cannot be read (" + message.substr(0, message.find('\n')) + ")");
    }
}

Project projectFromRecord(const fs::path& recordToml) {
    Project project;
    std::error_code ec;
    if (!fs::is_regular_file(recordToml, ec)) return project;
    try {
        toml::value record = toml::parse(recordToml.string());
        if (!record.contains("project")) return project;
        const toml::value& table = toml::find(record, "project");
        if (table.contains("file")) project.file = toml::find<std::string>(table, "file");
        auto fromToml = [&](const char* key) -> const toml::value* {
            if (!table.contains(key)) return nullptr;
            const toml::value& entry = toml::find(table, key);
            return toml::find_or<std::string>(entry, "origin", "") == "pipe.toml" ? &toml::find(entry, "value")
                                                                                  : nullptr;
        };
        if (const auto* v = fromToml("runs")) project.runs = fs::path(v->as_string().str);
        if (const auto* v = fromToml("device")) project.device = v->as_string().str;
        if (const auto* v = fromToml("threads")) project.threads = std::stoi(v->as_string().str);
        if (const auto* v = fromToml("data_roots"))
            for (const auto& root : v->as_array()) project.dataRoots.push_back(root.as_string().str);
    } catch (const std::exception& e) {
        std::string message = e.what();
        throw RecordError(recordToml.string() + ": its [project] table cannot be read (" +
                          message.substr(0, message.find('\n')) + ")");
    }
    return project;
}

}  // namespace pipelang::record
