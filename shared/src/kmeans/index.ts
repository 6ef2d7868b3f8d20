/** k-means math shared by the simulator and the aggregator: one implementation. */
export { assignRows, inertiaOf, kmeans, kmeansPlusPlus, lloyd, type KmeansOptions, type KmeansResult, type Matrix } from './lloyd.ts';
export { adjustedRandIndex, silhouette } from './quality.ts';
