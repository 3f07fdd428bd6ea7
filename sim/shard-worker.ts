// piscina worker entry: one long-lived task per worker, hosting a shard of chargers.

import { runShard, type ShardResult, type ShardTask } from './shard.js';

export default function shardWorker(task: ShardTask): Promise<ShardResult> {
  return runShard(task);
}
