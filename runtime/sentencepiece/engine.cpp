// The sentencepiece module (see runtime/data/sentencepiece_engine.h): the one
// file that includes sentencepiece, built as libpipe_sentencepiece.so.
#include <fcntl.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <cstdio>

#include "runtime/data/sentencepiece_engine.h"

// Not in sentencepiece's installed headers, but exported: its log threshold.
namespace sentencepiece::logging {
void SetMinLogLevel(int level);
}

namespace pipelang::runtime {

namespace {

// Hands the training text to sentencepiece without a temporary file.
class Sentences : public sentencepiece::SentenceIterator {
public:
    explicit Sentences(const std::vector<std::string>& texts) : texts_(texts) {}
    bool done() const override { return at_ >= texts_.size(); }
    void Next() override { ++at_; }
    const std::string& value() const override { return texts_[at_]; }
    sentencepiece::util::Status status() const override { return {}; }

private:
    const std::vector<std::string>& texts_;
    size_t at_ = 0;
};

// sentencepiece logs every training step to standard error; the run's log
// keeps only what it decided. Its errors come back as a Status, not as text.
class QuietStderr {
public:
    QuietStderr() {
        std::fflush(stderr);
        saved_ = dup(2);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 2);
            close(null);
        }
    }
    ~QuietStderr() {
        std::fflush(stderr);
        if (saved_ >= 0) {
            dup2(saved_, 2);
            close(saved_);
        }
    }

private:
    int saved_ = -1;
};

class Engine : public SentencepieceEngine {
public:
    // No logging at all: opened with RTLD_DEEPBIND, the module sees its own,
    // uninitialised std::cerr (the program's is a copy relocation), and
    // writing to it crashes.
    Engine() { sentencepiece::logging::SetMinLogLevel(100); }
    std::string train(const std::vector<std::string>& texts, const std::unordered_map<std::string, std::string>& args,
                      unsigned seed, std::string* model) override {
        sentencepiece::SetRandomGeneratorSeed(seed);
        Sentences sentences(texts);
        sentencepiece::util::Status status;
        {
            QuietStderr quiet;
            status = sentencepiece::SentencePieceTrainer::Train(args, &sentences, model);
        }
        if (!status.ok()) return status.ToString();
        return load(*model);
    }
    std::string load(const std::string& model) override {
        auto status = processor_.LoadFromSerializedProto(model);
        if (!status.ok()) return status.ToString();
        if (processor_.GetPieceSize() == 0) return "the model has no pieces";
        return "";
    }
    std::string encode(const std::string& text, std::vector<int>* ids) const override {
        auto status = processor_.Encode(text, ids);
        return status.ok() ? "" : status.ToString();
    }
    std::string decode(const std::vector<int>& ids, std::string* text) const override {
        auto status = processor_.Decode(ids, text);
        return status.ok() ? "" : status.ToString();
    }
    int size() const override { return processor_.GetPieceSize(); }
    std::string piece(int id) const override { return processor_.IdToPiece(id); }
    std::vector<int> specialIds() const override {
        return {processor_.pad_id(), processor_.unk_id(), processor_.bos_id(), processor_.eos_id()};
    }

private:
    sentencepiece::SentencePieceProcessor processor_;
};

}  // namespace

}  // namespace pipelang::runtime

extern "C" __attribute__((visibility("default"))) pipelang::runtime::SentencepieceEngine* pipe_sentencepiece_engine() {
    return new pipelang::runtime::Engine();
}
