//! The dataset under construction: features get their ids (1, 2, … per layer) as they are
//! added, so references between layers can be written at once.

use gridgov_model::{Dataset, Feature, FeatureId, Layer};

/// A dataset that numbers its features.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub(crate) dataset: Dataset,
}

impl Out {
    /// Adds a feature and returns its id.
    pub(crate) fn push(&mut self, layer: Layer, mut feature: Feature) -> i64 {
        let id = self.dataset.count(layer) as i64 + 1;
        feature.id = Some(FeatureId(id));
        self.dataset.push(layer, feature);
        id
    }
}
