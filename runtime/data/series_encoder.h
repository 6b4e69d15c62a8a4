// `pipe predict` on a series-trained run: each input is a table with the
// series' columns, forecast `horizon` steps past its last row from its last
// `lookback` rows, scaled with the training span's statistics that the run's
// stats.json keeps (series_data.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>

#include "runtime/data/dataset.h"

namespace pipelang::runtime {

std::unique_ptr<InputEncoder> seriesEncoder(const Section& data, const nlohmann::json& stats);

}  // namespace pipelang::runtime
