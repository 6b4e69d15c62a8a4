// `pipe-runtime predict RUN INPUTS...`
#include "runtime/predict.h"
#include "cli/runtime/command.h"

namespace pipelang::cli::runtime {

namespace {

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
    app.add_option("--tta", options.tta,
                   "test-time augmentation: average in N copies of each image made with the training item "
                   "transforms, as fastai's tta (default: 0, none)")
        ->check(CLI::Range(0, 64));
    if (int code = parse(app, argc, argv); code >= 0) return code;
    return pipelang::runtime::predict(options);
}

const Commands::Add kPredict{"predict", predict};

}  // namespace

}  // namespace pipelang::cli::runtime
