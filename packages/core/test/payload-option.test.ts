import { IsEmail, IsString } from 'class-validator';
import { z } from 'zod';
import {
  App,
  BaseTask,
  ConfigurationError,
  InvalidTaskOptionsError,
  PayloadTypesUnknownError,
  RemoteTaskError,
  Task,
  TaskValidationError,
  ValidateArgs,
} from '@queue/core';
import { testApp } from './helpers';
import { sendRaw } from './raw-message';

// `payload:` validates without decorator metadata: a Standard Schema (zod here) or a class-validator DTO.

const Order = z.object({
  id: z.number().int().positive(),
  email: z.email(),
  quantity: z.number().int().default(1),
});
type OrderIn = z.input<typeof Order>;

class Contact {
  @IsEmail() email!: string;
  @IsString() name!: string;
}

let runs = 0;
let app: App;
beforeEach(async () => {
  runs = 0;
  app = testApp();
  await app.worker().start();
});
afterEach(() => app.close());

describe('payload: a Standard Schema (zod)', () => {
  const defineOrder = () =>
    app.task({ name: 'payload.order', payload: Order }, (order: OrderIn) => {
      runs++;
      return order;
    });

  it('runs with the schema output (defaults applied)', async () => {
    const order = defineOrder();
    const result = await order.delay({ id: 7, email: 'ada@example.com' });
    expect(await result.get({ timeout: 3 })).toEqual({ id: 7, email: 'ada@example.com', quantity: 1 });
  });

  it('rejects before sending with TaskValidationError listing each issue; nothing is published', async () => {
    const order = defineOrder();
    const publish = jest.spyOn(app.transport, 'publish');
    const error = await order.delay({ id: -1, email: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskValidationError);
    expect((error as TaskValidationError).issues).toEqual([
      { property: 'id', constraints: { too_small: expect.stringContaining('0') } },
      { property: 'email', constraints: { invalid_format: expect.stringContaining('email') } },
    ]);
    expect(publish).not.toHaveBeenCalled();
  });

  it('rejects in the worker too: FAILURE TaskValidationError, the body never runs', async () => {
    defineOrder();
    const id = await sendRaw(app, 'payload.order', [{ id: 'x', email: 'ada@example.com' }]);
    const error = (await app
      .asyncResult(id)
      .get({ timeout: 3 })
      .catch((e: unknown) => e)) as RemoteTaskError;
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect(error.excType).toBe('TaskValidationError');
    expect(error.excMessage).toContain('id: ');
    expect(runs).toBe(0);
  });

  it('an array gives one schema per position; a scalar issue is named by its position', async () => {
    const note = app.task(
      { name: 'payload.note', payload: [z.string().min(1), undefined, Order] },
      (text: string, _free: unknown, order: OrderIn) => `${text}:${order.id}`,
    );
    expect(
      await (await note.delay('hi', { anything: true }, { id: 1, email: 'a@b.co' })).get({ timeout: 3 }),
    ).toBe('hi:1');
    await expect(note.delay('', null, { id: 1, email: 'a@b.co' })).rejects.toMatchObject({
      name: 'TaskValidationError',
      issues: [{ property: 'args[0]', constraints: { too_small: expect.any(String) } }],
    });
    await expect(note.delay('hi', null, { id: 1, email: 'bad' })).rejects.toMatchObject({
      issues: [{ property: 'email', constraints: { invalid_format: expect.any(String) } }],
    });
  });

  it('keyword arguments are matched to parameter names, then validated', async () => {
    const order = defineOrder();
    await expect(order.applyAsync({ kwargs: { order: { id: 0, email: 'a@b.co' } } })).rejects.toBeInstanceOf(
      TaskValidationError,
    );
  });
});

describe('payload: a class-validator DTO', () => {
  it('the first argument becomes the DTO and is validated, on a function task', async () => {
    const greet = app.task({ name: 'payload.greet', payload: Contact }, (contact: Contact) => {
      runs++;
      return `${contact instanceof Contact}:${contact.name}`;
    });
    expect(await (await greet.delay({ email: 'ada@example.com', name: 'Ada' })).get({ timeout: 3 })).toBe(
      'true:Ada',
    );
    await expect(greet.delay({ email: 'nope', name: 'Ada' })).rejects.toMatchObject({
      name: 'TaskValidationError',
      issues: [{ property: 'email', constraints: { isEmail: 'email must be an email' } }],
    });
  });

  it('as a class field of a task class', async () => {
    @Task({ name: 'payload.field' })
    class Greet extends BaseTask<[Contact], string> {
      override payload = Contact;
      run(contact: Contact) {
        return contact.name;
      }
    }
    await expect(Greet.delay({ email: 'x', name: 'Ada' })).rejects.toBeInstanceOf(TaskValidationError);
  });
});

describe('payload: refused when it cannot validate (when the task is defined)', () => {
  it('a value that is neither a schema nor a class', () => {
    expect(() => app.task({ name: 'payload.bad', payload: 42 as never }, () => 1)).toThrow(
      InvalidTaskOptionsError,
    );
  });

  it('a class without class-validator rules, and an empty list', () => {
    class Plain {
      email = '';
    }
    expect(() => app.task({ name: 'payload.plain', payload: Plain }, () => 1)).toThrow(
      /class Plain has no class-validator rules \(its module must be compiled with experimentalDecorators\)/,
    );
    expect(() => app.task({ name: 'payload.empty', payload: [undefined] }, () => 1)).toThrow(
      /payload must name at least one schema/,
    );
  });
});

describe('@ValidateArgs() never switches itself off', () => {
  it('no parameter type with class-validator rules → PayloadTypesUnknownError naming the class and the fix', () => {
    let error: unknown;
    try {
      @Task({ name: 'payload.shapeless' })
      class Shapeless extends BaseTask<[{ email: string }], string> {
        @ValidateArgs()
        run(input: { email: string }) {
          return input.email;
        }
      }
      void Shapeless;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PayloadTypesUnknownError);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'PAYLOAD_TYPES_UNKNOWN', reason: 'no-validated-type' });
    expect((error as Error).message).toMatch(/class Shapeless .*task 'payload\.shapeless'/);
    expect((error as Error).message).toMatch(/\[Object\]/);
    expect((error as Error).message).toMatch(/emitDecoratorMetadata.*import the DTO as a value.*payload:/);
  });

  it('payload: makes the metadata unnecessary', async () => {
    @Task({ name: 'payload.explicit', payload: Order })
    class Explicit extends BaseTask<[OrderIn], number> {
      @ValidateArgs()
      run(input: OrderIn) {
        return input.id;
      }
    }
    await expect(Explicit.delay({ id: 0, email: 'a@b.co' })).rejects.toBeInstanceOf(TaskValidationError);
  });

  it('on a method other than run → ConfigurationError', () => {
    expect(() => {
      class Other extends BaseTask<[], void> {
        run() {}
        @ValidateArgs()
        helper(_contact: Contact) {}
      }
      void Other;
    }).toThrow(/applies to a task's run method, not to helper/);
  });
});
