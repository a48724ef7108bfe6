/**
 * The part of Express 5 the guides' examples use. Express is in this repository (a dependency of
 * @modelcontextprotocol/sdk) without its types; a project of your own installs @types/express.
 */
declare module 'express' {
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';

  namespace express {
    interface Request extends IncomingMessage {
      originalUrl: string;
    }
    interface Response extends ServerResponse {
      send(body: string): this;
      redirect(url: string): void;
      cookie(name: string, value: string, options?: { httpOnly?: boolean; sameSite?: 'lax'; secure?: boolean }): this;
    }
    type NextFunction = (error?: unknown) => void;
    interface Application {
      (req: IncomingMessage, res: ServerResponse): void;
      get(path: string, handler: (req: Request, res: Response, next: NextFunction) => unknown): this;
      listen(port: number, callback?: () => void): Server;
    }
  }
  function express(): express.Application;
  export = express;
}
