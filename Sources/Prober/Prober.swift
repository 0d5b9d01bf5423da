/// CPU probing, feature diffs, reports and comparisons built on the QMP client.
public enum Prober {}
