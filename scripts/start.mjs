// `pnpm start`: a small runnable demo of the primitives until the simulator lands.
import { Deadline, systemClock } from '@faultline/clock';
import { pipeline } from '@faultline/core';

const deadline = Deadline.after(1000, systemClock);
const result = await pipeline().execute(async (ctx) => `attempt ${ctx.attempt}, ${deadline}`);
console.log(`faultline demo: ${result}`);
