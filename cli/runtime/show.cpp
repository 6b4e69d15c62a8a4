// `pipe-runtime show FILE`
#include "runtime/look/show.h"
#include "cli/run_flags.h"
#include "cli/runtime/command.h"

namespace pipelang::cli::runtime {

namespace {

int show(int argc, char** argv) {
    CLI::App app{"Saves one training batch, as the network gets it, as a captioned grid (images) or a table (rows)."};
    app.name("pipe show");
    pipelang::runtime::ShowOptions options;
    app.add_option("file", options.file, "the .pipe file")->required();
    addSetFlag(app, options.overrides, "fashion.batch_size=32");
    app.add_option("--data", options.data, "the data block (default: the one the last train stage reads)");
    app.add_option("--out", options.out, "the folder for batch.png, batch.csv and the tiles (default: show-STEM)");
    app.add_option("--n", options.n, "items shown, at most a batch (default: 16)")->check(CLI::PositiveNumber);
    if (int code = parse(app, argc, argv); code >= 0) return code;
    return pipelang::runtime::show(options);
}

const Commands::Add kShow{"show", show};

}  // namespace

}  // namespace pipelang::cli::runtime
