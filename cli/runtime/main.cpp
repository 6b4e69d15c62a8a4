// `pipe-runtime`: the half of pipe that links LibTorch. `pipe run` hands over
// to it so that `pipe check` and friends never pay LibTorch's start-up.
#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "runtime/error.h"
#include "runtime/execute.h"

int main(int argc, char** argv) {
    CLI::App app{"Runs a .pipe file on LibTorch: loads and prepares the data, trains, evaluates and exports."};
    app.name("pipe run");
    pipelang::runtime::RunOptions options;
    std::string device;
    app.add_option("file", options.file, "the .pipe file to run")->required();
    app.add_option("--set", options.overrides, "override a setting, e.g. --set fit.optimizer.lr=1e-3");
    app.add_option("--device", options.device, "where to train, over the file's choice")
        ->check(CLI::IsMember({"cpu", "cuda"}));
    app.add_option("--runs", options.runsDir, "the folder that holds run directories (default: runs)");
    app.add_option("--threads", options.threads, "intra-op threads (default: every core)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    try {
        return pipelang::runtime::runPipeline(options);
    } catch (const pipelang::runtime::RuntimeError& e) {
        std::fprintf(stderr, "\npipe run: error: %s\n", e.what());
    } catch (const c10::Error& e) {
        // LibTorch's own errors carry a backtrace; the first line is the message.
        std::string message = e.what_without_backtrace();
        std::fprintf(stderr, "\npipe run: error in LibTorch: %s\n", message.substr(0, message.find('\n')).c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\npipe run: error: %s\n", e.what());
    }
    return 1;
}
