// `pipe-runtime run FILE`: one run, or the launcher of a data-parallel run's
// workers (--nproc, --nnodes), or one such worker.
#include "cli/run_flags.h"
#include "cli/runtime/command.h"
#include "runtime/distributed/launch.h"
#include "runtime/distributed/world.h"
#include "runtime/execute.h"

namespace pipelang::cli::runtime {

namespace {

namespace distributed = pipelang::runtime::distributed;

int run(int argc, char** argv) {
    CLI::App app{"Runs a .pipe file on LibTorch: loads and prepares the data, trains, evaluates and exports."};
    app.name("pipe run");
    RunFlags flags;
    addRunFlags(app, flags);
    if (int code = parse(app, argc, argv); code >= 0) return code;
    if (flags.file.empty() == flags.resume.empty()) {
        std::fprintf(stderr, "pipe run: give a .pipe file to run, or --resume RUN (not both)\n");
        return 2;
    }
    std::vector<std::string> args(argv, argv + argc);
    if (flags.processes > 1 || flags.nodes > 1) {
        // The launcher: every worker gets this command line without the
        // launcher's own flags, and finds its rank in the environment.
        distributed::LaunchOptions launch{flags.processes, flags.nodes, flags.nodeRank, flags.master};
        return distributed::launch(launch, "/proc/self/exe", withoutFlags(args, kLauncherFlags));
    }
    pipelang::runtime::RunOptions options;
    options.file = flags.file;
    options.resume = flags.resume;
    options.overrides = flags.overrides;
    options.device = flags.device;
    options.runsDir = flags.runs;
    options.runDir = flags.runDir;
    options.threads = flags.threads;
    options.commandLine = {"pipe"};
    options.commandLine.insert(options.commandLine.end(), args.begin(), args.end());
    // A worker of `pipe run --nproc N` (or of torchrun-style variables set
    // by hand) joins the others before it runs the file.
    distributed::WorldInfo world = distributed::worldFromEnvironment();
    distributed::join(world, options.device == "cuda" ? "nccl" : "gloo");
    int status = pipelang::runtime::runPipeline(options);
    distributed::leave();
    return status;
}

const Commands::Add kRun{"run", run};

}  // namespace

}  // namespace pipelang::cli::runtime
