import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsString, Min, ValidateNested } from 'class-validator';
import { App, BaseTask, RemoteTaskError, Task, TaskValidationError, ValidateArgs } from '@queue/core';
import { testApp } from './helpers';
import { sendRaw } from './raw-message';

class Address {
  @IsString() city!: string;
}

class SignupInput {
  @IsEmail() email!: string;
  @IsInt() @Min(18) age!: number;
  @ValidateNested() @Type(() => Address) address!: Address;
}

let runs = 0;
@Task({ name: 'validate.signup', maxRetries: 3, defaultRetryDelay: 0, autoretryFor: [Error] })
class Signup extends BaseTask<[SignupInput], string> {
  @ValidateArgs()
  run(input: SignupInput) {
    runs++;
    return `${input instanceof SignupInput ? 'instance' : 'plain'}:${input.email}:${input.address.city}`;
  }
}

const valid = { email: 'ada@example.com', age: 36, address: { city: 'London' } };

/** Publishes a raw message, as another client (e.g. Python Celery) would, bypassing client-side checks. */

let app: App;
beforeEach(async () => {
  app = testApp();
  await app.worker().start();
});
afterEach(() => app.close());

describe('payload validation', () => {
  it('turns a valid argument into its class before run', async () => {
    expect(await (await Signup.delay(valid as SignupInput)).get({ timeout: 3 })).toBe(
      'instance:ada@example.com:London',
    );
  });

  it('invalid input sent by another client → FAILURE TaskValidationError naming each property and constraint, never retried', async () => {
    runs = 0;
    const id = await sendRaw(app, 'validate.signup', [{ email: 'nope', age: 12, address: { city: 5 } }]);
    const error = (await app
      .asyncResult(id)
      .get({ timeout: 3 })
      .catch((e: unknown) => e)) as RemoteTaskError;
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect(error.excType).toBe('TaskValidationError');
    expect(error.excMessage).toContain('email: email must be an email');
    expect(error.excMessage).toContain('age: age must not be less than 18');
    expect(error.excMessage).toContain('address.city: city must be a string');
    expect(runs).toBe(0);
  });

  it('refuses unknown properties and non-object arguments', async () => {
    const extra = await sendRaw(app, 'validate.signup', [{ ...valid, admin: true }]);
    await expect(app.asyncResult(extra).get({ timeout: 3 })).rejects.toMatchObject({
      excType: 'TaskValidationError',
      excMessage: expect.stringContaining('admin'),
    });
    const scalar = await sendRaw(app, 'validate.signup', [42]);
    await expect(app.asyncResult(scalar).get({ timeout: 3 })).rejects.toMatchObject({
      excType: 'TaskValidationError',
    });
  });

  it('also checks before sending: delay() rejects with TaskValidationError and nothing is sent', async () => {
    const publish = jest.spyOn(app.transport, 'publish');
    const error = await Signup.delay({ ...valid, age: 3 } as SignupInput).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskValidationError);
    expect((error as TaskValidationError).issues).toEqual([
      { property: 'age', constraints: { min: 'age must not be less than 18' } },
    ]);
    expect(publish).not.toHaveBeenCalled();
  });
});
