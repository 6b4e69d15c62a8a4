// sentencepiece behind an interface of our own. Debian's libsentencepiece
// carries its own copy of protobuf (3.14) while LibTorch loads the system's
// (3.21); in one symbol namespace they break each other as the program starts.
// So sentencepiece lives in a module (libpipe_sentencepiece.so, built from
// runtime/sentencepiece/) that the runtime opens with its own namespace
// (dlopen RTLD_LOCAL | RTLD_DEEPBIND) and reaches only through this class's
// virtual calls. Errors come back as text, never as exceptions, across it.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace pipelang::runtime {

class SentencepieceEngine {
public:
    virtual ~SentencepieceEngine() = default;
    // Each returns "" on success, else sentencepiece's message.
    virtual std::string train(const std::vector<std::string>& texts,
                              const std::unordered_map<std::string, std::string>& args, unsigned seed,
                              std::string* model) = 0;
    virtual std::string load(const std::string& model) = 0;
    virtual std::string encode(const std::string& text, std::vector<int>* ids) const = 0;
    virtual std::string decode(const std::vector<int>& ids, std::string* text) const = 0;
    virtual int size() const = 0;
    virtual std::string piece(int id) const = 0;
    // pad, unk, bos, eos ids of the loaded model (-1 where it has none).
    virtual std::vector<int> specialIds() const = 0;
};

// A new engine from the module; a RuntimeError when the module cannot be opened.
std::unique_ptr<SentencepieceEngine> makeSentencepieceEngine();

}  // namespace pipelang::runtime
