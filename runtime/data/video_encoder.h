// `pipe predict` on a video-trained run: the encoder of clips, from the data
// section and the run's classes.json and stats.json (video_data.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>

#include "runtime/data/dataset.h"

namespace pipelang::runtime {

std::unique_ptr<InputEncoder> videoEncoder(const Section& data, const nlohmann::json& classes,
                                           const nlohmann::json& stats);

}  // namespace pipelang::runtime
