// The target block: labels (text, one per item) turned into what the loss
// reads. Vocabularies come from the training items alone.
#pragma once

#include <string>
#include <vector>

#include "runtime/data/splits.h"

namespace pipelang::runtime {

struct Targets {
    std::string kind;                  // category, multi_category, number
    std::vector<std::string> classes;  // category, multi_category
    std::vector<int64_t> codes;        // category: a class index per item
    std::vector<float> values;         // number: one per item; multi_category: items × classes, 0 or 1
};

// The classes' stable order: by numeric value when every one is a number
// ("2" before "10"), else by byte order.
std::vector<std::string> sortedClasses(std::vector<std::string> classes);

// Encodes `labels` for the block `kind`. The vocabulary is the set of labels
// of the items on Side::Train (`fixedClasses`, when given, is used instead,
// e.g. Fashion-MNIST's names). A validation or test label never seen in
// training is an error that names it: the model could not predict it.
// `delimiter` splits multi_category labels.
Targets encodeTargets(const std::string& kind, const std::vector<std::string>& labels, const std::vector<Side>& sides,
                      const std::string& delimiter, const std::vector<std::string>& fixedClasses = {});

// Splits a multi_category field into its labels (empty parts skipped).
std::vector<std::string> splitLabels(const std::string& field, const std::string& delimiter);

}  // namespace pipelang::runtime
