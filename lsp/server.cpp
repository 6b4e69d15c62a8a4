#include "lsp/server.h"

#include <istream>
#include <stdexcept>

namespace pipelang::lsp {

namespace {

// JSON-RPC and LSP error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kServerNotInitialized = -32002;
constexpr int kRequestFailed = -32803;

// A request's parameters did not hold what the method needs.
struct BadParams : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct UnknownMethod : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// A request understood but refused, with why (a rename to a taken name).
struct RequestFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

json response(const json& id, json result) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json errorResponse(const json& id, int code, const std::string& message) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json notify(const std::string& method, json params) {
    return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

std::string stringAt(const json& params, const char* object, const char* field) {
    if (!params.is_object() || !params.contains(object) || !params[object].is_object())
        throw BadParams("no " + std::string(object));
    const json& o = params[object];
    if (!o.contains(field) || !o[field].is_string()) throw BadParams("no " + std::string(object) + "." + field);
    return o[field].get<std::string>();
}

Position positionOf(const json& params) {
    if (!params.contains("position")) throw BadParams("no position");
    return positionFrom(params["position"]);
}

json capabilities() {
    return {
        {"textDocumentSync", {{"openClose", true}, {"change", 1}}},  // full text on every change
        {"hoverProvider", true},
        {"completionProvider", {{"triggerCharacters", {".", "(", ",", "=", "["}}}},
        {"definitionProvider", true},
        {"documentSymbolProvider", true},
        {"documentFormattingProvider", true},
        {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}},
        {"signatureHelpProvider", {{"triggerCharacters", {"(", ","}}}},
        {"referencesProvider", true},
        {"renameProvider", true},
        {"semanticTokensProvider", {{"legend", semanticTokensLegend()}, {"full", true}}},
    };
}

}  // namespace

const Document* Server::document(const std::string& uri) const {
    auto it = documents_.find(uri);
    return it == documents_.end() ? nullptr : it->second.get();
}

const Document& Server::documentFor(const json& params) const {
    std::string uri = stringAt(params, "textDocument", "uri");
    const Document* doc = document(uri);
    if (!doc) throw BadParams("`" + uri + "` is not open");
    return *doc;
}

std::vector<json> Server::open(const std::string& uri, std::string text) {
    auto doc = std::make_unique<Document>(uri, std::move(text), document(uri));
    json published = diagnostics(*doc);
    documents_[uri] = std::move(doc);
    return {notify("textDocument/publishDiagnostics", published)};
}

json Server::request(const std::string& method, const json& params) {
    if (method == "initialize") {
        initialized_ = true;
        return {{"capabilities", capabilities()}, {"serverInfo", {{"name", "pipe"}, {"version", PIPE_VERSION}}}};
    }
    if (method == "shutdown") {
        shutdown_ = true;
        return nullptr;
    }
    if (method == "textDocument/completion") return completion(documentFor(params), positionOf(params));
    if (method == "textDocument/hover") return hover(documentFor(params), positionOf(params));
    if (method == "textDocument/definition") return definition(documentFor(params), positionOf(params));
    if (method == "textDocument/documentSymbol") return documentSymbols(documentFor(params));
    if (method == "textDocument/formatting") return formatting(documentFor(params));
    if (method == "textDocument/references") {
        bool declaration = params.contains("context") && params["context"].is_object() &&
                           params["context"].value("includeDeclaration", false);
        return references(documentFor(params), positionOf(params), declaration);
    }
    if (method == "textDocument/rename") {
        if (!params.contains("newName") || !params["newName"].is_string()) throw BadParams("no newName");
        RenameResult r = rename(documentFor(params), positionOf(params), params["newName"].get<std::string>());
        if (!r.refusal.empty()) throw RequestFailed(r.refusal);
        return r.edit;
    }
    if (method == "textDocument/semanticTokens/full") return semanticTokens(documentFor(params));
    if (method == "textDocument/signatureHelp") return signatureHelp(documentFor(params), positionOf(params));
    if (method == "textDocument/codeAction") return codeActions(documentFor(params), params.value("range", json()));
    throw UnknownMethod(method);
}

std::vector<json> Server::notification(const std::string& method, const json& params) {
    if (method == "exit") {
        exited_ = true;
        return {};
    }
    if (!initialized_ || shutdown_) return {};
    if (method == "textDocument/didOpen")
        return open(stringAt(params, "textDocument", "uri"), stringAt(params, "textDocument", "text"));
    if (method == "textDocument/didChange") {
        std::string uri = stringAt(params, "textDocument", "uri");
        const json& changes = params.value("contentChanges", json::array());
        // Full sync: the last change holds the whole text.
        if (!changes.is_array() || changes.empty() || !changes.back().is_object() || !changes.back().contains("text") ||
            !changes.back()["text"].is_string())
            return {};
        return open(uri, changes.back()["text"].get<std::string>());
    }
    if (method == "textDocument/didClose") {
        std::string uri = stringAt(params, "textDocument", "uri");
        documents_.erase(uri);
        return {notify("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", json::array()}})};
    }
    return {};  // initialized, didSave, $/cancelRequest, and anything else: nothing to say
}

std::vector<json> Server::handleText(const std::string& text) {
    // nlohmann's parser is iterative, but what is done with its result is not:
    // the depth is refused while parsing, before a deep value exists.
    struct TooDeep {};
    json message;
    try {
        message = json::parse(
            text,
            [](int depth, json::parse_event_t event, json&) {
                // `depth` counts the containers already open around this one.
                bool opens = event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
                if (opens && depth >= kMaxMessageNesting) throw TooDeep{};
                return true;
            },
            false);
    } catch (const TooDeep&) {
        return {errorResponse(nullptr, kParseError,
                              "the message nests deeper than " + std::to_string(kMaxMessageNesting) + " levels")};
    }
    if (message.is_discarded()) return {errorResponse(nullptr, kParseError, "the message is not JSON")};
    return handle(message);
}

std::vector<json> Server::handle(const json& message) {
    if (!message.is_object() || !message.contains("method") || !message["method"].is_string()) {
        if (message.is_object() && message.contains("id") && !message.contains("method"))
            return {};  // a response to us
        return {errorResponse(message.is_object() ? message.value("id", json()) : json(), kInvalidRequest,
                              "a request needs a method")};
    }
    std::string method = message["method"].get<std::string>();
    json params = message.value("params", json::object());
    bool isRequest = message.contains("id");
    json id = isRequest ? message["id"] : json();
    try {
        if (!isRequest) return notification(method, params);
        if (!initialized_ && method != "initialize")
            return {errorResponse(id, kServerNotInitialized, "the server is not initialized yet")};
        if (shutdown_ && method != "shutdown")
            return {errorResponse(id, kInvalidRequest, "the server is shutting down")};
        return {response(id, request(method, params))};
    } catch (const BadParams& e) {
        return isRequest ? std::vector<json>{errorResponse(id, kInvalidParams, e.what())} : std::vector<json>{};
    } catch (const RequestFailed& e) {
        return isRequest ? std::vector<json>{errorResponse(id, kRequestFailed, e.what())} : std::vector<json>{};
    } catch (const UnknownMethod&) {
        if (!isRequest) return {};
        return {errorResponse(id, kMethodNotFound, "pipe lsp does not handle `" + method + "`")};
    } catch (const std::exception& e) {
        // A bug: answer it, keep serving.
        return isRequest ? std::vector<json>{errorResponse(id, kInternalError, e.what())} : std::vector<json>{};
    }
}

int serve(std::istream& in, std::ostream& out) {
    Server server;
    while (auto body = readMessage(in)) {
        for (const auto& reply : server.handleText(*body))
            writeMessage(out, reply.dump(-1, ' ', false, json::error_handler_t::replace));
        if (server.exited()) return server.exitCode();
    }
    return server.exitCode();
}

}  // namespace pipelang::lsp
