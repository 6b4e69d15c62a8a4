// `pipe-runtime COMMAND ...`: the half of pipe that links LibTorch. `pipe run`
// and `pipe predict` hand over to it so that `pipe check` and the other
// commands never pay LibTorch's start-up.
#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <string>

#include "runtime/error.h"
#include "runtime/execute.h"
#include "runtime/generate.h"
#include "runtime/log.h"
#include "runtime/predict.h"
#include "runtime/repro.h"

namespace {

int run(int argc, char** argv) {
    CLI::App app{"Runs a .pipe file on LibTorch: loads and prepares the data, trains, evaluates and exports."};
    app.name("pipe run");
    pipelang::runtime::RunOptions options;
    app.add_option("file", options.file, "the .pipe file to run");
    app.add_option("--resume", options.resume, "go on with an interrupted run, in its own directory");
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
    if (options.file.empty() == options.resume.empty()) {
        std::fprintf(stderr, "pipe run: give a .pipe file to run, or --resume RUN (not both)\n");
        return 2;
    }
    options.commandLine = {"pipe"};
    for (int i = 0; i < argc; ++i) options.commandLine.push_back(argv[i]);
    return pipelang::runtime::runPipeline(options);
}

int predict(int argc, char** argv) {
    CLI::App app{"Loads a finished run and prints the top labels, with probabilities, for each input."};
    app.name("pipe predict");
    pipelang::runtime::PredictOptions options;
    app.add_option("run", options.run, "a run directory written by `pipe run`")->required();
    app.add_option("inputs", options.inputs, "image files, or csv/json/jsonl files of rows")->required();
    app.add_option("--stage", options.stage, "the train stage whose model predicts (default: the last)");
    app.add_option("--top", options.top, "labels shown per input (default: 3)")->check(CLI::PositiveNumber);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    return pipelang::runtime::predict(options);
}

int generate(int argc, char** argv) {
    CLI::App app{"Samples text from a finished run's language model, one sample a line."};
    app.name("pipe generate");
    pipelang::runtime::GenerateOptions options;
    app.add_option("run", options.run, "a run directory written by `pipe run`")->required();
    app.add_option("--n", options.n, "samples (default: 5)")->check(CLI::PositiveNumber);
    app.add_option("--temperature", options.temperature,
                   "below 1 the likelier tokens, above 1 more variety; 0 always the likeliest (default: 1)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--prompt", options.prompt, "the text every sample starts with (default: none)");
    app.add_option("--length", options.length, "the most tokens per sample (default: 200)")->check(CLI::PositiveNumber);
    app.add_option("--seed", options.seed, "the same seed gives the same samples (default: 0)");
    app.add_option("--stage", options.stage, "the train stage whose model samples (default: the last language model)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    return pipelang::runtime::generate(options);
}

// The error that ends a run, on the terminal and in the run's log.
void failed(const char* command, const std::string& message) {
    std::fputc('\n', stderr);
    pipelang::runtime::log::error(std::string("pipe ") + command + ": error: " + message);
}

int repro(int argc, char** argv) {
    CLI::App app{"Runs a finished run again from its record.toml and says whether every weight and metric repeats."};
    app.name("pipe repro");
    pipelang::runtime::ReproOptions options;
    app.add_option("run", options.run, "a run directory written by `pipe run`")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    return pipelang::runtime::repro(options);
}

}  // namespace

int main(int argc, char** argv) {
    const std::pair<const char*, int (*)(int, char**)> commands[] = {
        {"run", run}, {"predict", predict}, {"generate", generate}, {"repro", repro}};
    int (*handler)(int, char**) = nullptr;
    for (const auto& [name, function] : commands)
        if (argc >= 2 && std::strcmp(argv[1], name) == 0) handler = function;
    if (!handler) {
        std::fprintf(stderr,
                     "pipe-runtime: use it through `pipe run`, `pipe predict`, `pipe generate` or `pipe repro`\n");
        return 2;
    }
    const char* command = argv[1];
    try {
        return handler(argc - 1, argv + 1);
    } catch (const pipelang::runtime::Interrupted& e) {
        std::fputc('\n', stderr);
        pipelang::runtime::log::error(std::string("pipe ") + command + ": " + e.what() +
                                      "; continue with `pipe run --resume RUN`");
        return 130;
    } catch (const pipelang::runtime::RuntimeError& e) {
        failed(command, e.what());
    } catch (const c10::Error& e) {
        // LibTorch's own errors carry a backtrace; the first line is the message.
        std::string message = e.what_without_backtrace();
        failed(command, "in LibTorch: " + message.substr(0, message.find('\n')));
    } catch (const std::exception& e) {
        failed(command, e.what());
    }
    return 1;
}
