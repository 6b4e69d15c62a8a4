// `pipe lsp`: a Language Server Protocol server over JSON-RPC. The server is
// a pure function of the messages it is given: `handle` takes one message and
// returns the messages to send back (responses and notifications), so tests
// drive it without a process; cli/lsp.cpp connects it to stdin and stdout.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lsp/document.h"
#include "lsp/protocol.h"

namespace pipelang::lsp {

// Arrays and objects inside each other in one message. Copying and printing
// JSON recurse once per level, so a message nested 300,000 deep would end the
// server; LSP's own messages nest fewer than ten. docs/limits.md lists it.
inline constexpr int kMaxMessageNesting = 100;

class Server {
public:
    // One message as its JSON text; a malformed one, or one nested deeper
    // than kMaxMessageNesting, gets a JSON-RPC parse error.
    std::vector<json> handleText(const std::string& text);
    std::vector<json> handle(const json& message);

    // `exit` was received: the process should end, with this status
    // (0 after `shutdown`, 1 without, as the protocol asks).
    bool exited() const { return exited_; }
    int exitCode() const { return shutdown_ ? 0 : 1; }

    const Document* document(const std::string& uri) const;

private:
    json request(const std::string& method, const json& params);
    std::vector<json> notification(const std::string& method, const json& params);
    std::vector<json> open(const std::string& uri, std::string text);
    const Document& documentFor(const json& params) const;

    bool initialized_ = false;
    bool shutdown_ = false;
    bool exited_ = false;
    std::map<std::string, std::unique_ptr<Document>> documents_;
};

// Reads messages from `in` and writes the answers to `out` until `exit` or the
// end of the input; returns the process's exit status.
int serve(std::istream& in, std::ostream& out);

}  // namespace pipelang::lsp
