// One open document and what the server knows about it: the checker's
// compilation of its current text (imports read from disk), its AST and its
// tokens. Every request is answered from these; none may fail on broken text.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "interpreter/compile.h"
#include "interpreter/parse.h"
#include "lsp/protocol.h"

namespace pipelang::lsp {

// A block or `let` that a name can refer to, in this file or an imported one.
struct Declaration {
    std::string kind;  // tokenizer, data, model, train, sweep, let
    std::string name;
    Span nameSpan;  // the name, or the keyword of an unnamed block
    const ast::Statement* statement = nullptr;
};

class Document {
public:
    // Checks `text` as the file `uri` names (imports resolve next to it).
    // While the text has syntax errors the checker does not run; `previous`
    // (the same document before the change) then lends its last checked
    // pipeline, so completion still knows what the blocks hold.
    Document(std::string uri, std::string text, const Document* previous = nullptr);

    const std::string& uri() const { return uri_; }
    const SourceFile& file() const { return *file_; }
    const Compilation& compilation() const { return *compilation_; }
    // The pipeline of the last text that the checker could check (empty when none was).
    const Pipeline& pipeline() const { return checked_->pipeline; }
    const ast::Module* module() const { return module_; }  // null when the text could not be read at all
    const std::vector<Token>& tokens() const { return tokens_; }
    const std::vector<Declaration>& declarations() const { return declarations_; }
    const Declaration* declaration(std::string_view name) const;
    std::vector<const Declaration*> declarations(std::string_view kind) const;

private:
    std::string uri_;
    std::shared_ptr<const Compilation> compilation_;
    std::shared_ptr<const Compilation> checked_;
    const SourceFile* file_ = nullptr;
    const ast::Module* module_ = nullptr;
    std::vector<Token> tokens_;
    std::vector<Declaration> declarations_;
};

// The answers to the requests, as the `result` (or notification `params`) JSON.
json diagnostics(const Document& doc);                     // textDocument/publishDiagnostics params
json completion(const Document& doc, Position p);          // CompletionItem[]
json hover(const Document& doc, Position p);               // Hover or null
json definition(const Document& doc, Position p);          // Location or null
json documentSymbols(const Document& doc);                 // DocumentSymbol[]
json formatting(const Document& doc);                      // TextEdit[], or null when the text does not parse
json codeActions(const Document& doc, const json& range);  // CodeAction[]: the fix-its under `range`
json signatureHelp(const Document& doc, Position p);       // SignatureHelp or null outside a call
// Location[] of the block or `let` named at `p`, in the document and its imports.
json references(const Document& doc, Position p, bool includeDeclaration);
// A WorkspaceEdit renaming it everywhere, or, when it cannot be, why.
struct RenameResult {
    json edit;
    std::string refusal;
};
RenameResult rename(const Document& doc, Position p, const std::string& newName);
// SemanticTokens of the names whose colour depends on what they mean, and the legend of their numbers.
json semanticTokens(const Document& doc);
json semanticTokensLegend();

}  // namespace pipelang::lsp
