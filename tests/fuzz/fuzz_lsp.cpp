// libFuzzer target: the language server's message handling. An input is a
// session, one JSON-RPC message per line, handed to one Server as `pipe lsp`
// hands each message it reads; an input that starts with a Content-Length
// header goes through serve() instead, framing and all. Every reply must
// print as serve() prints it.
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "lsp/server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace pipelang::lsp;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    if (input.starts_with("Content-Length:")) {
        std::istringstream in{std::string(input)};
        std::ostringstream out;
        serve(in, out);
        return 0;
    }
    Server server;
    while (!input.empty() && !server.exited()) {
        size_t end = input.find('\n');
        std::string line(input.substr(0, end));
        input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
        for (const auto& reply : server.handleText(line)) reply.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return 0;
}
