// The syntax of .pipe files: the single definition, compiled by ANTLR4 at build
// time. Keywords double as names (`model = lm`, `essays.train.text`), so every
// place that takes a name goes through the `name` rule.
grammar Pipe;

file      : statement* EOF ;

// One expression alone: a `--set` value or a registry default.
exprOnly  : expr EOF ;

statement : SEED expr                                   # seedStatement
          | IMPORT STRING                               # importStatement
          | LET name '=' expr                           # letStatement
          | kind=(TOKENIZER | DATA | MODEL | TRAIN | SWEEP) name? '{' field* '}'  # blockStatement
          | EVALUATE path ON path (WITH withExpr=expr)? (TTA ttaExpr=expr)?  # evaluateStatement
          | EXPORT path TO expr                         # exportStatement
          ;

field     : path '=' expr ;

expr      : literal                                     # literalExpr
          | path '(' (argument (',' argument)* ','?)? ')'   # callExpr
          | path                                        # refExpr
          | '[' (expr (',' expr)* ','?)? ']'            # listExpr
          | '(' (expr (',' expr)* ','?)? ')'            # tupleExpr
          ;

argument  : (name '=')? expr ;

literal   : '-'? NUMBER | STRING | BAD_STRING | TRUE | FALSE ;

path      : name ('.' name)* ;

name      : IDENT | SEED | IMPORT | LET | TOKENIZER | DATA | MODEL | TRAIN | SWEEP
          | EVALUATE | EXPORT | ON | WITH | TO | TTA ;

SEED      : 'seed' ;
IMPORT    : 'import' ;
LET       : 'let' ;
TOKENIZER : 'tokenizer' ;
DATA      : 'data' ;
MODEL     : 'model' ;
TRAIN     : 'train' ;
SWEEP     : 'sweep' ;
EVALUATE  : 'evaluate' ;
EXPORT    : 'export' ;
ON        : 'on' ;
WITH      : 'with' ;
TO        : 'to' ;
TTA       : 'tta' ;
TRUE      : 'true' ;
FALSE     : 'false' ;

IDENT     : [a-zA-Z_] [a-zA-Z_0-9]* ;
NUMBER    : DIGITS ('.' DIGITS?)? EXPONENT? | '.' DIGITS EXPONENT? ;
fragment DIGITS   : [0-9] ('_'? [0-9])* ;
fragment EXPONENT : [eE] [+-]? [0-9]+ ;

// Escapes are checked when the AST is built, so a bad one gets a precise message.
STRING     : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
// A string that reaches the end of its line: a token of its own, so the parser
// goes on and the AST builder reports it once.
BAD_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* ('\\')? ;

COMMENT    : '#' ~[\r\n]* -> channel(HIDDEN) ;
WS         : [ \t\r\n\f]+ -> channel(HIDDEN) ;
// Anything else becomes one token the parser reports as an unexpected character.
STRAY      : . ;
