// Post-processors, for one sequence: each comes down to a template of
// special tokens around the text's ids, and a Sequence of them to the
// templates put one inside the other.
#include "tokenizers/components.h"

namespace pipelang::tokenizers {

namespace {

Template::Item special(const nlohmann::json& pair, const char* key, const Source& source) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string())
        source.fail(std::string("its post_processor's \"") + key + "\" is not a [token, id] pair");
    return {
        false, {source.id(pair[1], std::string("post_processor's \"") + key + "\" id")}, pair[0].get<std::string>()};
}

Template templateOf(const nlohmann::json& j, const Source& source) {
    const auto& single = j.value("single", nlohmann::json::array());
    const auto& specials = j.value("special_tokens", nlohmann::json::object());
    Template t;
    t.items.clear();
    for (const auto& piece : single) {
        if (piece.contains("Sequence")) {
            t.items.push_back({true, {}, {}});
            continue;
        }
        if (!piece.contains("SpecialToken")) source.fail("its post_processor's template holds " + piece.dump());
        std::string name = piece["SpecialToken"].value("id", "");
        auto it = specials.find(name);
        if (it == specials.end())
            source.fail("its post_processor's template names the special token \"" + name +
                        "\", which its special_tokens do not list");
        std::vector<int64_t> ids;
        for (const auto& id : it->value("ids", nlohmann::json::array()))
            ids.push_back(source.id(id, "post_processor's special token \"" + name + "\" id"));
        t.items.push_back({false, std::move(ids), name});
    }
    return t;
}

// `inner` in place of the sequence in `outer`.
Template compose(const Template& inner, const Template& outer) {
    Template t;
    t.items.clear();
    for (auto& item : outer.items) {
        if (item.sequence)
            t.items.insert(t.items.end(), inner.items.begin(), inner.items.end());
        else
            t.items.push_back(item);
    }
    return t;
}

}  // namespace

Template makeTemplate(const nlohmann::json& j, const Source& source) {
    std::string type = typeOf(j, "post_processor", source);
    if (type == "TemplateProcessing") return templateOf(j, source);
    if (type == "BertProcessing" || type == "RobertaProcessing") {
        Template t;
        t.items = {special(j.value("cls", nlohmann::json()), "cls", source),
                   {true, {}, {}},
                   special(j.value("sep", nlohmann::json()), "sep", source)};
        return t;
    }
    if (type == "ByteLevel") return {};
    if (type == "Sequence") {
        Template t;
        for (const auto& step : j.value("processors", nlohmann::json::array()))
            t = compose(t, makeTemplate(step, source));
        return t;
    }
    source.unsupported("post_processor", type,
                       "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and Sequence");
}

}  // namespace pipelang::tokenizers
