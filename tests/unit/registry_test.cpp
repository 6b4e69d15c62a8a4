// The registry is code, so its mistakes are programming errors: these tests
// catch them before the checker, `pipe doc` or the runtime trip over them.
#include "stdlib/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace pipelang::stdlib {
namespace {

const std::vector<std::string> kInputKinds = {"image", "tabular", "text", "tokens", "series", "audio", "video"};
const std::vector<std::string> kTargetKinds = {"category", "multi_category", "number", "tokens", "series"};

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

std::string where(const Builtin& b) {
    return std::string(familyName(b.family)) + " `" + b.name + "`";
}
std::string where(const Builtin& b, const Param& p) {
    return where(b) + " param `" + p.name + "`";
}

// A default that is a value rather than "required", "none" or "auto".
bool hasValue(const Param& p) {
    return !p.required() && p.defaultValue != "none" && p.defaultValue != "auto";
}

std::string unquote(const std::string& text) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text.substr(1, text.size() - 2);
    return text;
}

TEST(Registry, EveryParamTypeParses) {
    for (const auto& b : registry().entries())
        for (const auto& p : b.params) EXPECT_NO_THROW(Type::parse(p.type)) << where(b, p) << ": " << p.type;
}

TEST(Registry, NoDuplicateParamNames) {
    for (const auto& b : registry().entries()) {
        std::set<std::string> seen;
        for (const auto& p : b.params) EXPECT_TRUE(seen.insert(p.name).second) << where(b, p) << " appears twice";
    }
}

TEST(Registry, EveryBuiltinAndParamHasOneLineOfDoc) {
    for (const auto& b : registry().entries()) {
        EXPECT_FALSE(b.doc.empty()) << where(b) << " has no doc";
        EXPECT_EQ(b.doc.find('\n'), std::string::npos) << where(b) << ": doc is more than one line";
        for (const auto& p : b.params) {
            EXPECT_FALSE(p.doc.empty()) << where(b, p) << " has no doc";
            EXPECT_EQ(p.doc.find('\n'), std::string::npos) << where(b, p) << ": doc is more than one line";
        }
    }
}

TEST(Registry, EveryTargetKindHasDefaults) {
    for (const auto& kind : kTargetKinds) {
        auto defaults = [&](Family family) {
            int n = 0;
            for (const auto* b : registry().all(family))
                if (contains(b->defaultFor, kind)) ++n;
            return n;
        };
        EXPECT_EQ(defaults(Family::Loss), 1) << "default losses for " << kind;
        EXPECT_EQ(defaults(Family::Head), 1) << "default heads for " << kind;
        EXPECT_GE(defaults(Family::Metric), 1) << "default metrics for " << kind;
    }
}

TEST(Registry, DefaultsAreAmongWhatTheyAccept) {
    for (const auto& b : registry().entries())
        for (const auto& kind : b.defaultFor) EXPECT_TRUE(contains(b.accepts, kind)) << where(b) << ": " << kind;
}

TEST(Registry, EveryDataBlockProducesSomething) {
    for (const auto* b : registry().all(Family::Block)) {
        EXPECT_FALSE(b->produces.empty()) << where(*b) << " has no `produces`";
        EXPECT_TRUE(b->canBeInput || b->canBeTarget) << where(*b) << " is neither input nor target";
        if (b->canBeInput) {
            EXPECT_TRUE(contains(kInputKinds, b->produces)) << where(*b) << ": " << b->produces;
        }
        if (b->canBeTarget) {
            EXPECT_TRUE(contains(kTargetKinds, b->produces)) << where(*b) << ": " << b->produces;
        }
    }
}

// Item transforms that name the input blocks they work on (sound's) name
// input kinds, and one that changes the input's kind (a spectrogram: an
// image) makes an input kind.
TEST(Registry, ItemTransformsAcceptAndProduceInputKinds) {
    int changing = 0;
    for (const auto* b : registry().all(Family::Item)) {
        for (const auto& kind : b->accepts) EXPECT_TRUE(contains(kInputKinds, kind)) << where(*b) << ": " << kind;
        if (b->produces.empty()) continue;
        EXPECT_TRUE(contains(kInputKinds, b->produces)) << where(*b) << ": " << b->produces;
        EXPECT_FALSE(b->accepts.empty()) << where(*b) << " changes the input's kind, so it must say from which";
        ++changing;
    }
    EXPECT_GE(changing, 3);  // spectrogram, mel_spectrogram, mfcc
}

TEST(Registry, EveryBackboneAcceptsInputKinds) {
    for (const auto* b : registry().all(Family::Backbone)) {
        EXPECT_FALSE(b->accepts.empty()) << where(*b) << " accepts nothing";
        for (const auto& kind : b->accepts) EXPECT_TRUE(contains(kInputKinds, kind)) << where(*b) << ": " << kind;
        // A backbone that wraps another (`frames`) says what it gives it, through its `backbone` parameter.
        if (b->produces.empty()) continue;
        EXPECT_TRUE(contains(kInputKinds, b->produces)) << where(*b) << ": " << b->produces;
        const Param* inner = b->param("backbone");
        ASSERT_NE(inner, nullptr) << where(*b) << " produces " << b->produces << " but wraps no backbone";
        EXPECT_EQ(inner->type, "backbone") << where(*b);
    }
}

// `slice(lo, hi)` spreads its rates over each backbone's layer groups: every
// backbone has its split and says in the reference what it is.
TEST(Registry, EveryBackboneHasLayerGroups) {
    for (const auto* b : registry().all(Family::Backbone)) {
        EXPECT_NE(b->layerGroups, nullptr) << where(*b) << " has no layer groups";
        EXPECT_FALSE(b->groupsDoc.empty()) << where(*b) << " does not say what its layer groups are";
    }
    for (Family f : allFamilies()) {
        if (f == Family::Backbone) continue;
        for (const auto* b : registry().all(f)) EXPECT_EQ(b->layerGroups, nullptr) << where(*b);
    }
}

TEST(Registry, LayerGroupPatternsMatchWholeNames) {
    LayerGroup layer1{"layer1", {"layer1.*"}}, first{"rnn.l1", {"rnn.*_l1", "rnn.*_l1_reverse"}};
    EXPECT_TRUE(layer1.holds("layer1.0.conv1.weight"));
    EXPECT_FALSE(layer1.holds("layer10.0.conv1.weight"));
    EXPECT_FALSE(layer1.holds("xlayer1.0.weight"));
    EXPECT_TRUE(first.holds("rnn.weight_ih_l1"));
    EXPECT_TRUE(first.holds("rnn.bias_hh_l1_reverse"));
    EXPECT_FALSE(first.holds("rnn.weight_ih_l10"));
    EXPECT_FALSE(first.holds("rnn.weight_ih_l0"));
    EXPECT_TRUE(LayerGroup({"all", {"*"}}).holds("anything.at.all"));
}

TEST(Registry, HeadsLossesAndMetricsAcceptTargetKinds) {
    for (Family family : {Family::Head, Family::Loss, Family::Metric})
        for (const auto* b : registry().all(family)) {
            EXPECT_FALSE(b->accepts.empty()) << where(*b) << " accepts nothing";
            for (const auto& kind : b->accepts) EXPECT_TRUE(contains(kTargetKinds, kind)) << where(*b) << ": " << kind;
        }
}

TEST(Registry, ChoicesOnlyForStringIntAndMonitorParams) {
    for (const auto& b : registry().entries())
        for (const auto& p : b.params) {
            if (p.choices.empty()) continue;
            auto kind = Type::parse(p.type).kind;
            EXPECT_TRUE(kind == Type::Kind::String || kind == Type::Kind::Int || kind == Type::Kind::Monitor)
                << where(b, p) << " has choices but type " << p.type;
        }
}

TEST(Registry, DefaultsAreAllowedValues) {
    for (const auto& b : registry().entries())
        for (const auto& p : b.params) {
            if (p.min && p.max) {
                EXPECT_LE(*p.min, *p.max) << where(b, p);
            }
            if (!hasValue(p)) continue;
            if (!p.choices.empty()) {
                EXPECT_TRUE(contains(p.choices, unquote(p.defaultValue))) << where(b, p) << ": " << p.defaultValue;
            }
            auto kind = Type::parse(p.type).kind;
            if (kind == Type::Kind::String || kind == Type::Kind::Path) {
                EXPECT_EQ(p.defaultValue.front(), '"') << where(b, p) << ": a string default is written quoted";
            }
            if (kind == Type::Kind::Bool) {
                EXPECT_TRUE(p.defaultValue == "true" || p.defaultValue == "false") << where(b, p);
            }
            if (kind == Type::Kind::Int || kind == Type::Kind::Float) {
                char* end = nullptr;
                double value = std::strtod(p.defaultValue.c_str(), &end);
                EXPECT_EQ(*end, '\0') << where(b, p) << ": not a number: " << p.defaultValue;
                if (p.min) {
                    EXPECT_GE(value, *p.min) << where(b, p);
                }
                if (p.max) {
                    EXPECT_LE(value, *p.max) << where(b, p);
                }
            }
        }
}

// A default such as `adamw()` or `valid_loss` must name a built-in of the right family.
TEST(Registry, DefaultCallsNameRegisteredBuiltins) {
    for (const auto& b : registry().entries())
        for (const auto& p : b.params) {
            if (!hasValue(p)) continue;
            Type type = Type::parse(p.type);
            if (type.kind != Type::Kind::Call) continue;
            size_t end = 0;
            while (end < p.defaultValue.size() &&
                   (std::isalnum(static_cast<unsigned char>(p.defaultValue[end])) || p.defaultValue[end] == '_'))
                ++end;
            std::string name = p.defaultValue.substr(0, end);
            EXPECT_NE(registry().find(type.family, name), nullptr)
                << where(b, p) << ": default `" << p.defaultValue << "` is no " << familyName(type.family);
        }
}

// Every built-in the design's examples use is registered, in its family.
TEST(Registry, ExamplesBuiltinsAreRegistered) {
    const std::vector<std::pair<Family, std::vector<std::string>>> expected = {
        {Family::Source, {"idx", "folder", "csv", "jsonl", "json", "lines", "fortunes"}},
        {Family::Block, {"image", "category", "multi_category", "number", "tabular", "text", "tokens", "chars"}},
        {Family::Label, {"parent_label", "column", "regex", "filename"}},
        {Family::Splitter, {"random", "folder", "column", "stratified", "kfold", "stratified_kfold", "group_kfold"}},
        {Family::Column, {"column"}},
        {Family::Item, {"resize", "pad", "random_crop", "center_crop", "flip", "rotate", "brightness", "contrast"}},
        {Family::Batch, {"normalize"}},
        {Family::Backbone, {"mlp", "cnn", "resnet", "embedding_mlp", "lstm", "gru", "transformer", "tfidf"}},
        {Family::Head, {"classifier", "regressor", "next_token", "linear"}},
        {Family::Loss, {"cross_entropy", "bce_with_logits", "mse", "l1", "huber"}},
        {Family::Optimizer, {"sgd", "adam", "adamw"}},
        {Family::Range, {"slice"}},
        {Family::Schedule, {"constant", "step", "linear", "cosine", "one_cycle", "fine_tune"}},
        {Family::Metric,
         {"accuracy", "error_rate", "top_k", "precision", "recall", "f1", "roc_auc", "mse", "mae", "rmse", "r2",
          "confusion_matrix", "perplexity", "accuracy_multi"}},
        {Family::Callback, {"best", "early_stop", "checkpoint"}},
        {Family::Strategy, {"grid", "random"}},
        {Family::Trainer, {"sentencepiece"}},
    };
    for (const auto& [family, names] : expected)
        for (const auto& name : names)
            EXPECT_NE(registry().find(family, name), nullptr) << familyName(family) << " `" << name << "` missing";
}

TEST(Registry, EveryScheduleHasEpochs) {
    for (const auto* b : registry().all(Family::Schedule)) {
        const Param* epochs = b->param("epochs");
        ASSERT_NE(epochs, nullptr) << where(*b) << " has no `epochs`";
        EXPECT_EQ(epochs->type, "int") << where(*b);
        EXPECT_EQ(epochs->min, 1.0) << where(*b);
    }
}

}  // namespace
}  // namespace pipelang::stdlib
