/** The private training schedule: budget split over rounds, candidate starts, selection. */
export { splitBudget, type RoundBudget, type TrainingBudget } from './budget.ts';
export {
  advanceTraining,
  dataIndependentStart,
  minCountFor,
  planTraining,
  privateInertiaPerDevice,
  reviveDead,
  selectCandidate,
  selectK,
  shrinkMoves,
  START_HALF_WIDTH,
  startTraining,
  type TrainingOptions,
  type TrainingPlan,
  type TrainingState,
} from './schedule.ts';
export { TRAINING_ENCODING } from './encoding.ts';
export { TRAINING_GROUPS } from './groups.ts';
