#include "runtime/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "runtime/error.h"

namespace pipelang::runtime::log {

namespace {

struct Loggers {
    std::shared_ptr<spdlog::logger> out, err, file;
    Loggers() {
        // The terminal gets the bare line: the table must read as fastai's.
        out = std::make_shared<spdlog::logger>("out", std::make_shared<spdlog::sinks::stdout_sink_mt>());
        err = std::make_shared<spdlog::logger>("err", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        for (auto* l : {&out, &err}) {
            (*l)->set_pattern("%v");
            (*l)->flush_on(spdlog::level::trace);
        }
    }
};

Loggers& loggers() {
    static Loggers instance;
    return instance;
}

void toFile(spdlog::level::level_enum level, const std::string& line) {
    if (auto& file = loggers().file) file->log(level, "{}", line);
}

}  // namespace

void info(const std::string& line) {
    loggers().out->info("{}", line);
    toFile(spdlog::level::info, line);
}

void note(const std::string& line) {
    loggers().err->warn("{}", line);
    toFile(spdlog::level::warn, line);
}

void error(const std::string& line) {
    loggers().err->error("{}", line);
    toFile(spdlog::level::err, line);
}

void openRunLog(const std::filesystem::path& file) {
    try {
        auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), /*truncate=*/false);
        auto logger = std::make_shared<spdlog::logger>("run", sink);
        logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
        logger->flush_on(spdlog::level::trace);
        loggers().file = logger;
    } catch (const spdlog::spdlog_ex& e) {
        throw RuntimeError("cannot write the run's log `" + file.string() + "`: " + e.what());
    }
}

void closeRunLog() {
    loggers().file.reset();
}

}  // namespace pipelang::runtime::log
