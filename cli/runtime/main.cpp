// `pipe-runtime COMMAND ...`: the half of pipe that links LibTorch. `pipe run`
// and `pipe predict` hand over to it so that `pipe check` and the other
// commands never pay LibTorch's start-up.
#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "runtime/distributed/launch.h"
#include "runtime/distributed/world.h"
#include "runtime/error.h"
#include "runtime/execute.h"
#include "runtime/generate.h"
#include "runtime/log.h"
#include "runtime/look/interpret.h"
#include "runtime/look/lr_find.h"
#include "runtime/look/show.h"
#include "runtime/predict.h"
#include "runtime/repro.h"
#include "runtime/threads.h"

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
    app.add_option("--runs", options.runsDir,
                   "the folder that holds run directories (default: pipe.toml's `runs`, else runs)");
    int jobs = 1;  // read by `pipe run` itself, listed here for --help
    app.add_option("--jobs", jobs, "for a file with a sweep block: points run at once, sharing the cores");
    app.add_option("--run-dir", options.runDir, "write the run into this folder (a sweep's points use it)");
    app.add_option("--threads", options.threads, "intra-op threads (default: pipe.toml's `threads`, else every core)");
    namespace distributed = pipelang::runtime::distributed;
    distributed::LaunchOptions launch;
    app.add_option("--nproc", launch.processes, "data-parallel worker processes on this machine (default: 1)")
        ->check(CLI::PositiveNumber);
    app.add_option("--nnodes", launch.nodes, "machines in the run, each running this command (default: 1)")
        ->check(CLI::PositiveNumber);
    app.add_option("--node-rank", launch.nodeRank, "this machine's number, from 0 (default: 0)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--master", launch.master, "addr:port of rank 0's machine (default: MASTER_ADDR, MASTER_PORT)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (options.file.empty() == options.resume.empty()) {
        std::fprintf(stderr, "pipe run: give a .pipe file to run, or --resume RUN (not both)\n");
        return 2;
    }
    if (launch.processes > 1 || launch.nodes > 1) {
        // The launcher: every worker gets this command line without the
        // launcher's own options, and finds its rank in the environment.
        std::vector<std::string> workerArgs;
        const std::vector<std::string> launcherOptions = {"--nproc", "--nnodes", "--node-rank", "--master"};
        for (int i = 0; i < argc; ++i) {
            std::string a = argv[i];
            bool launcherOption = false;
            for (const auto& o : launcherOptions) {
                if (a == o)
                    launcherOption = true, ++i;  // the value follows
                else if (a.rfind(o + "=", 0) == 0)
                    launcherOption = true;
            }
            if (!launcherOption) workerArgs.push_back(a);
        }
        return distributed::launch(launch, "/proc/self/exe", workerArgs);
    }
    options.commandLine = {"pipe"};
    for (int i = 0; i < argc; ++i) options.commandLine.push_back(argv[i]);
    // A worker of `pipe run --nproc N` (or of torchrun-style variables set
    // by hand) joins the others before it runs the file.
    distributed::WorldInfo world = distributed::worldFromEnvironment();
    distributed::join(world, options.device == "cuda" ? "nccl" : "gloo");
    int status = pipelang::runtime::runPipeline(options);
    distributed::leave();
    return status;
}

int predict(int argc, char** argv) {
    CLI::App app{"Loads a finished run and prints the top labels, with probabilities, for each input."};
    app.name("pipe predict");
    pipelang::runtime::PredictOptions options;
    app.add_option("run", options.run, "a run directory written by `pipe run`")->required();
    app.add_option("inputs", options.inputs,
                   "image files, csv/json/jsonl files of rows, or texts (a .txt file: one text a line)")
        ->required();
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
    // In a data-parallel run every rank may fail; each says which it is.
    namespace distributed = pipelang::runtime::distributed;
    std::string who = distributed::size() > 1 ? " (rank " + std::to_string(distributed::rank()) + ")" : "";
    pipelang::runtime::log::error(std::string("pipe ") + command + who + ": error: " + message);
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

int show(int argc, char** argv) {
    CLI::App app{"Saves one training batch, as the network gets it, as a captioned grid (images) or a table (rows)."};
    app.name("pipe show");
    pipelang::runtime::ShowOptions options;
    app.add_option("file", options.file, "the .pipe file")->required();
    app.add_option("--set", options.overrides, "override a setting, e.g. --set fashion.batch_size=32");
    app.add_option("--data", options.data, "the data block (default: the one the last train stage reads)");
    app.add_option("--out", options.out, "the folder for batch.png, batch.csv and the tiles (default: show-STEM)");
    app.add_option("--n", options.n, "items shown, at most a batch (default: 16)")->check(CLI::PositiveNumber);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    return pipelang::runtime::show(options);
}

int interpret(int argc, char** argv) {
    CLI::App app{"Saves a finished run's confusion matrix and the items with the highest loss on a split."};
    app.name("pipe interpret");
    pipelang::runtime::InterpretOptions options;
    app.add_option("run", options.run, "a run directory written by `pipe run`")->required();
    app.add_option("--split", options.split, "valid or test (default: valid)");
    app.add_option("--stage", options.stage, "the train stage whose model is judged (default: the last)");
    app.add_option("--top", options.top, "items with the highest loss (default: 9)")->check(CLI::PositiveNumber);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    return pipelang::runtime::interpret(options);
}

int lrFind(int argc, char** argv) {
    CLI::App app{
        "The learning-rate range test (fastai's lr_find): loss against an exponentially growing rate, "
        "with suggestions."};
    app.name("pipe lr-find");
    pipelang::runtime::LrFindOptions options;
    app.add_option("file", options.file, "the .pipe file")->required();
    app.add_option("--set", options.overrides, "override a setting, e.g. --set fit.optimizer.weight_decay=0.1");
    app.add_option("--stage", options.stage, "the train stage (default: the last)");
    app.add_option("--start", options.start, "the first learning rate (default: 1e-7)");
    app.add_option("--end", options.end, "the last learning rate (default: 10)");
    app.add_option("--iters", options.iters, "batches at most (default: 100)");
    app.add_option("--device", options.device, "where to train, over the file's choice")
        ->check(CLI::IsMember({"cpu", "cuda"}));
    app.add_option("--out", options.out, "the folder for lr_find.csv and the plots (default: lr-find-STEM)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    return pipelang::runtime::lrFind(options);
}

}  // namespace

int main(int argc, char** argv) {
    const std::pair<const char*, int (*)(int, char**)> commands[] = {
        {"run", run},   {"predict", predict},     {"generate", generate}, {"repro", repro},
        {"show", show}, {"interpret", interpret}, {"lr-find", lrFind}};
    int (*handler)(int, char**) = nullptr;
    for (const auto& [name, function] : commands)
        if (argc >= 2 && std::strcmp(argv[1], name) == 0) handler = function;
    if (!handler) {
        std::fprintf(stderr,
                     "pipe-runtime: use it through `pipe run`, `pipe predict`, `pipe generate`, `pipe repro`, "
                     "`pipe show`, `pipe interpret` or `pipe lr-find`\n");
        return 2;
    }
    const char* command = argv[1];
    // Every command computes with LibTorch's pool on all cores and OpenBLAS
    // on one (runtime/threads.h); `run --threads N` narrows it.
    pipelang::runtime::useThreads(int(std::max(1u, std::thread::hardware_concurrency())));
    try {
        return handler(argc - 1, argv + 1);
    } catch (const pipelang::runtime::Interrupted& e) {
        // Every rank stopped at the same step; rank 0 tells.
        if (!pipelang::runtime::distributed::isMain()) return 130;
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
